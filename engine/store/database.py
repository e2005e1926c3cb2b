"""The experiment store: one SQLite file (WAL) that is the single source of truth and the
bus between the GUI, the CLI and workers (DESIGN.md, "Process model").

One writer per run; readers fetch incrementally (``WHERE id > last_seen``). Every
connection sets ``busy_timeout`` so no row is lost to "database is locked".
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from engine.runs.paths import RunDir, RunPaths
from engine.runs.status import ACTIVE, RunStatus
from engine.store.run_record import COLUMNS, Run
from engine.store.schema import SCHEMA_VERSION, StoreError, migrate

HEARTBEAT_TIMEOUT = float(os.environ.get("PRETEXT_HEARTBEAT_TIMEOUT", "20"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited child not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def _last_words(run_dir: RunDir) -> str:
    """The last line a worker printed (its ``worker.out``), e.g. an import error, or ""."""
    try:
        with open(run_dir.worker_out, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 2000))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" (last output: {lines[-1][:200]})" if lines else ""


class Store:
    """Connection to ``<home>/experiments.db``. Not shared across threads: open one each.
    ``with Store(home) as store:`` closes it at the end of the block."""

    def __init__(self, home: Path | str):
        self.paths = RunPaths(home)
        self.home = self.paths.home
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.paths.store
        self.conn = self._connect()
        self.db = sqlite_utils.Database(self.conn)
        migrate(self.conn)

    def _connect(self) -> sqlite3.Connection:
        # Never open() the database file ourselves: closing any descriptor of it drops every
        # POSIX lock this process holds on it (SQLite FAQ), which corrupts concurrent writes.
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # reads the header: fails on a non-database
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.DatabaseError as e:
            conn.close()
            if "not a database" in str(e) or "malformed" in str(e):
                raise StoreError(f"{self.path} is not a Pretext experiment store (not an SQLite database); "
                                 "it was left untouched") from None
            raise StoreError(f"{self.path} cannot be opened as an experiment store: {e}") from None
        return conn

    def close(self):
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self):
        """One write transaction. The connection is in autocommit mode, where ``with conn:``
        opens none, so an ``executemany`` would commit every row on its own (10x slower)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # a failed COMMIT (disk full) may leave it open
                self.conn.execute("ROLLBACK")
            raise

    def run_dir(self, run_id: str) -> RunDir:
        return self.paths.run(run_id)

    # --- runs ------------------------------------------------------------------------
    def create_run(self, config: dict, name: str = "", parent_id: str | None = None,
                   status: RunStatus = RunStatus.QUEUED) -> str:
        name = name or f"{config['method']['id']}-{config['backbone']['id']}-{config['data']['id']}"
        for attempt in range(100):  # ids made in the same second can collide (16 random bits)
            run_id = time.strftime("%y%m%d-%H%M%S-") + uuid.uuid4().hex[:4]
            try:
                self.conn.execute(
                    "INSERT INTO runs (id, name, status, method, backbone, dataset, config, created, "
                    "parent_id, control, notes, tags, step, total_steps) VALUES (?,?,?,?,?,?,?,?,?,'','','',0,0)",
                    (run_id, name, status, config["method"]["id"], config["backbone"]["id"],
                     config["data"]["id"], json.dumps(config), time.time(), parent_id))
                break
            except sqlite3.IntegrityError:
                if attempt == 99:
                    raise
        run_dir = self.run_dir(run_id).create()
        run_dir.config.write_text(json.dumps(config, indent=2))
        return run_id

    def update_run(self, run_id: str, **fields) -> None:
        bad = [k for k in fields if k not in COLUMNS]
        if bad:
            raise KeyError(f"no run column {bad[0]}")
        if not fields:
            return
        if "status" in fields:  # ValueError for a status outside the vocabulary: never stored
            fields["status"] = RunStatus.parse(fields["status"]).value
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.conn:
            self.conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))

    def mark_crashed(self) -> int:
        """Mark runs whose worker vanished as ``crashed``; return how many."""
        now, host, n = time.time(), socket.gethostname(), 0
        active = [s.value for s in ACTIVE]
        rows = self.conn.execute(
            f"SELECT id, status, heartbeat, pid, host, started, created FROM runs "
            f"WHERE status IN ({','.join('?' * len(active))})", active).fetchall()
        for r in rows:
            if r["status"] == RunStatus.QUEUED and r["pid"] is None:
                continue  # not launched yet
            dead = r["host"] == host and r["pid"] is not None and not _pid_alive(r["pid"])
            last = r["heartbeat"] or r["started"] or r["created"]
            stale = r["status"] != RunStatus.QUEUED and now - last > HEARTBEAT_TIMEOUT
            if dead or stale:
                why = ("the worker process exited without reporting" + _last_words(self.run_dir(r["id"]))
                       if dead else f"no heartbeat for {now - last:.0f} s")
                with self.conn:
                    cur = self.conn.execute(
                        "UPDATE runs SET status=?, ended=?, error=COALESCE(NULLIF(error,''), ?) "
                        "WHERE id=? AND status=?", (RunStatus.CRASHED, now, why, r["id"], r["status"]))
                n += cur.rowcount
        return n

    def get_run(self, run_id: str, check_liveness: bool = True) -> Run:
        """The run with this id, else the newest run with this name."""
        if check_liveness:
            self.mark_crashed()
        row = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM runs WHERE name = ? ORDER BY created DESC",
                                    (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.path}")
        return Run.from_row(row)

    def list_runs(self, search: str = "", status: str = "", method: str = "",
                  limit: int | None = None) -> list[Run]:
        """Runs with their latest metric values (``run.latest[key]``), newest first."""
        self.mark_crashed()
        where, args = [], []
        if search:
            where.append("(name LIKE ? OR id LIKE ? OR tags LIKE ? OR notes LIKE ? OR method LIKE ? "
                         "OR backbone LIKE ? OR dataset LIKE ?)")
            args += [f"%{search}%"] * 7
        if status:
            where.append("status = ?")
            args.append(status)
        if method:
            where.append("method = ?")
            args.append(method)
        sql = "SELECT * FROM runs" + (" WHERE " + " AND ".join(where) if where else "")
        sql += " ORDER BY created DESC" + (" LIMIT ?" if limit else "")
        if limit:
            args.append(limit)
        rows = self.conn.execute(sql, args).fetchall()
        latest: dict[str, dict] = {}
        for r in self.conn.execute("SELECT run_id, key, value FROM latest"):
            latest.setdefault(r[0], {})[r[1]] = r[2]
        counts = dict(self.conn.execute("SELECT run_id, COUNT(*) FROM evals GROUP BY run_id").fetchall())
        return [Run.from_row(r, latest.get(r["id"]), counts.get(r["id"], 0)) for r in rows]

    def delete_run(self, run_id: str) -> None:
        import shutil

        with self.conn:
            for table in ("metrics", "latest", "evals", "artifacts"):
                self.conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            self.conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        shutil.rmtree(self.run_dir(run_id).root, ignore_errors=True)

    def set_control(self, run_id: str, control: str) -> None:
        self.update_run(run_id, control=control)

    def get_control(self, run_id: str) -> str:
        row = self.conn.execute("SELECT control FROM runs WHERE id = ?", (run_id,)).fetchone()
        return row[0] if row else ""

    # --- metrics -----------------------------------------------------------------------
    def log_metrics(self, run_id: str, rows: list[tuple]) -> None:
        """rows: (step, epoch, time, key, value). One transaction; also updates ``latest``."""
        if not rows:
            return
        with self.transaction():
            self.conn.executemany(
                "INSERT INTO metrics (run_id, step, epoch, time, key, value) VALUES (?,?,?,?,?,?)",
                [(run_id, *r) for r in rows])
            last = {}
            for step, _epoch, t, key, value in rows:
                last[key] = (run_id, key, value, step, t)
            self.conn.executemany(
                "INSERT INTO latest (run_id, key, value, step, time) VALUES (?,?,?,?,?) "
                "ON CONFLICT(run_id, key) DO UPDATE SET value=excluded.value, step=excluded.step, "
                "time=excluded.time", list(last.values()))

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

    def truncate_metrics(self, run_id: str, after_step: int) -> None:
        """Drop rows logged after ``after_step`` (a resume replays them) and rebuild ``latest``."""
        with self.transaction():
            self.conn.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, after_step))
            self.conn.execute("DELETE FROM latest WHERE run_id = ?", (run_id,))
            self.conn.execute(
                "INSERT INTO latest (run_id, key, value, step, time) SELECT run_id, key, value, step, time "
                "FROM metrics m WHERE run_id = ? AND id = (SELECT MAX(id) FROM metrics WHERE run_id = m.run_id "
                "AND key = m.key)", (run_id,))

    # --- evals and artifacts -------------------------------------------------------------
    def add_eval(self, run_id: str, protocol: str, dataset: str, params: dict, results: dict,
                 checkpoint: str = "") -> int:
        with self.conn:
            cur = self.conn.execute(
                "INSERT INTO evals (run_id, checkpoint, protocol, dataset, params, results, time) "
                "VALUES (?,?,?,?,?,?,?)", (run_id, checkpoint, protocol, dataset,
                                           json.dumps(params), json.dumps(results), time.time()))
        return cur.lastrowid

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

    def add_artifact(self, run_id: str, kind: str, path: str, step: int = 0) -> None:
        with self.conn:
            self.conn.execute("INSERT INTO artifacts (run_id, kind, path, step, time) VALUES (?,?,?,?,?)",
                              (run_id, kind, str(path), step, time.time()))

    def artifacts(self, run_id: str, kind: str | None = None) -> list[dict]:
        sql, args = "SELECT * FROM artifacts WHERE run_id = ?", [run_id]
        if kind:
            sql, args = sql + " AND kind = ?", args + [kind]
        return [dict(r) for r in self.conn.execute(sql + " ORDER BY id", args)]


__all__ = ["Store", "StoreError", "Run", "SCHEMA_VERSION", "HEARTBEAT_TIMEOUT"]
