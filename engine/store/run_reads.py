"""The store's reads (``Store`` inherits them): runs with their latest metrics and
evaluation counts, metric series, evaluations and artifacts. Reads never write: a run whose
worker is gone reads as ``crashed`` (``liveness.as_read``), so a reader is never blocked by,
nor blocks, a writer's lock for longer than one query.
"""
from __future__ import annotations

import json
import sqlite3

from engine.runs.status import ACTIVE, RunStatus
from engine.store.liveness import as_read
from engine.store.run_record import SELECT_COLUMNS, Run
from engine.store.schema import StoreError


class RunReads:
    """Needs ``self.conn`` (sqlite3 connection, rows as ``sqlite3.Row``), ``self.path`` and
    ``self.run_dir(run_id)``."""

    def get_run(self, run_id: str, check_liveness: bool = True) -> Run:
        """The run with this id, else the newest run with this name. With ``check_liveness``
        a run whose worker is gone reads as ``crashed`` (derived: nothing is written)."""
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM runs WHERE name = ? ORDER BY created DESC",
                                    (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.path}")
        run = Run.from_row(row)
        return as_read(run, self.run_dir(run.id)) if check_liveness else run

    def list_runs(self, search: str = "", status: str = "", method: str = "",
                  limit: int | None = None) -> list[Run]:
        """Runs with their latest metric values (``run.latest[key]``), newest first. Reads
        only: a run whose worker is gone reads as ``crashed``."""
        where, args = [], []
        if search:
            where.append("(name LIKE ? OR id LIKE ? OR tags LIKE ? OR notes LIKE ? OR method LIKE ? "
                         "OR backbone LIKE ? OR dataset LIKE ?)")
            args += [f"%{search}%"] * 7
        if status and status != RunStatus.CRASHED:  # crashed is derived: filtered below
            where.append("status = ?")
            args.append(status)
        if method:
            where.append("method = ?")
            args.append(method)
        sql = f"SELECT {SELECT_COLUMNS} FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC" + (" LIMIT ?" if limit else "")
        if limit:
            args.append(limit)
        runs = self._read_runs(sql, args)
        return [r for r in runs if not status or r.status == status]

    def watched_runs(self, ids=()) -> list[Run]:
        """The runs in an active status plus the runs ``ids`` whatever their status (deleted
        ones are missing), newest first, read like ``list_runs`` but only those rows: the GUI
        polls this every 2 s, where listing 10,000 runs held its main thread 0.15-0.3 s."""
        ids = list(ids)
        where = f"status IN ({','.join('?' * len(ACTIVE))})" + (f" OR id IN ({','.join('?' * len(ids))})" if ids else "")
        sql = f"SELECT {SELECT_COLUMNS} FROM runs WHERE {where} ORDER BY created DESC"
        return self._read_runs(sql, [*ACTIVE, *ids], only_these=True)

    def _read_runs(self, sql: str, args: list, only_these: bool = False) -> list[Run]:
        """Runs of a ``SELECT SELECT_COLUMNS`` query with their latest metrics and evaluation
        counts (of those runs only, when ``only_these``; else one scan of each table)."""
        cursor = self.conn.cursor()
        cursor.row_factory = None  # plain tuples, in SELECT_COLUMNS order: Run.from_values reads them
        rows = cursor.execute(sql, args).fetchall()
        ids = [r[0] for r in rows]  # r[0]: id
        among = f" WHERE run_id IN ({','.join('?' * len(ids))})" if only_these else ""
        if only_these and not ids:
            return []
        params = ids if only_these else []
        latest: dict[str, dict] = {}
        for run_id, key, value in cursor.execute("SELECT run_id, key, value FROM latest" + among, params):
            values = latest.get(run_id)
            if values is None:
                values = latest[run_id] = {}
            values[key] = value
        counts = dict(cursor.execute(f"SELECT run_id, COUNT(*) FROM evals{among} GROUP BY run_id", params).fetchall())
        runs = [Run.from_values(r, latest.get(r[0]) or {}, counts.get(r[0], 0)) for r in rows]
        return [as_read(r, self.run_dir(r.id)) if r.status in ACTIVE else r for r in runs]  # only these can crash

    def metrics_since(self, run_id: str, last_id: int = 0, keys=None) -> list[sqlite3.Row]:
        sql = "SELECT id, step, epoch, time, key, value FROM metrics WHERE run_id = ? AND id > ?"
        args: list = [run_id, last_id]
        if keys:
            sql += f" AND key IN ({','.join('?' * len(keys))})"
            args += list(keys)
        return self.conn.execute(sql + " ORDER BY id", args).fetchall()

    def metric_series(self, run_id: str, key: str):
        """(steps, epochs, times, values) lists for one key, in step order."""
        rows = self.conn.execute("SELECT step, epoch, time, value FROM metrics WHERE run_id = ? "
                                 "AND key = ? ORDER BY step, id", (run_id, key)).fetchall()
        return [list(col) for col in zip(*rows)] if rows else [[], [], [], []]

    def metric_keys(self, run_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT key FROM latest WHERE run_id = ? ORDER BY key", (run_id,))]

    def latest(self, run_id: str) -> dict:
        return {r[0]: r[1] for r in self.conn.execute("SELECT key, value FROM latest WHERE run_id = ?", (run_id,))}

    def evals(self, run_id: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM evals", []
        if run_id:
            sql, args = sql + " WHERE run_id = ?", [run_id]
        out = []
        for r in self.conn.execute(sql + " ORDER BY id", args):
            d = dict(r)
            d["params"], d["results"] = json.loads(d["params"]), json.loads(d["results"])
            out.append(d)
        return out

    def artifacts(self, run_id: str, kind: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM artifacts WHERE run_id = ?", [run_id]
        if kind:
            sql, args = sql + " AND kind = ?", args + [kind]
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]
