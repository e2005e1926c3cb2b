"""The experiment store: one SQLite file (WAL) that is the single source of truth and the
bus between the GUI, the CLI and workers (DESIGN.md, "Process model").

One writer per run; readers fetch incrementally (``WHERE id > last_seen``). Every
connection sets ``busy_timeout`` so no row is lost to "database is locked".
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from engine.runs.paths import RunDir, RunPaths
from engine.runs.status import RunStatus
from engine.store import lease as leases
from engine.store.lease import Lease, LeaseLost
from engine.store.liveness import as_read, heartbeat_timeout
from engine.store.network_home import check_home
from engine.store.run_reads import RunReads
from engine.store.run_record import COLUMNS, Run
from engine.store.schema import SCHEMA_VERSION, StoreError, migrate

LOCK_PATIENCE = 600.0   # seconds a write waits out another process's lock before it fails
_warned: set[Path] = set()  # homes warned about (network filesystem allowed by the user) in this process


def _seconds(variable: str, default: float) -> float:
    text = os.environ.get(variable, "").strip()
    try:
        value = float(text) if text else default
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise StoreError(f"{variable} must be a number of seconds, not {text!r}")
    return value


def _locked(e: Exception) -> bool:
    return isinstance(e, sqlite3.OperationalError) and ("locked" in str(e) or "busy" in str(e))


class Store(RunReads):
    """Connection to ``<home>/experiments.db``. Not shared across threads: open one each.
    ``with Store(home) as store:`` closes it at the end of the block."""

    def __init__(self, home: Path | str, busy_timeout: float | None = None, patience: float | None = None):
        """``busy_timeout``: seconds one try waits for another process's lock
        (``PRETEXT_BUSY_TIMEOUT``, default 30); ``patience``: seconds a write keeps retrying
        before it fails (``PRETEXT_LOCK_PATIENCE``, default 600). The GUI passes small ones."""
        self.busy_timeout = _seconds("PRETEXT_BUSY_TIMEOUT", 30.0) if busy_timeout is None else busy_timeout
        self.patience = _seconds("PRETEXT_LOCK_PATIENCE", LOCK_PATIENCE) if patience is None else patience
        heartbeat_timeout()  # a bad PRETEXT_HEARTBEAT_TIMEOUT is one sentence now, not a surprise later
        self.paths = RunPaths(home)
        self.home = self.paths.home
        self._check_local_home()
        try:
            self.home.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise StoreError(f"the home {self.home} cannot be used: it, or a folder above it, is a file") from None
        except OSError as e:
            raise StoreError(f"the home {self.home} cannot be created: {e.strerror or e}") from None
        self.path = self.paths.store
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory, not an experiment store; move it away")
        self.conn = self._connect()
        self.db = sqlite_utils.Database(self.conn)
        migrate(self.conn)

    def _check_local_home(self) -> None:
        try:
            problem = check_home(self.home)
        except ValueError as e:
            raise StoreError(str(e)) from None
        if problem is not None and self.home not in _warned:
            _warned.add(self.home)
            print(f"warning: {problem.split('; use a local')[0]}", file=sys.stderr)

    def _connect(self) -> sqlite3.Connection:
        # Never open() the database file ourselves: closing any descriptor of it drops every
        # POSIX lock this process holds on it (SQLite FAQ), which corrupts concurrent writes.
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as e:
            raise StoreError(f"{self.path} cannot be opened as an experiment store: {e}") from None
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("PRAGMA schema_version").fetchone()  # reads the header: fails on a non-database
            conn.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
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

    def _begin(self) -> None:
        """BEGIN IMMEDIATE, waiting out another process's write lock (a database browser, a
        long transaction): ``busy_timeout`` per try, then retries with backoff."""
        deadline, pause = time.monotonic() + self.patience, 0.05
        while True:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as e:
                if not _locked(e):
                    raise
                if time.monotonic() >= deadline:
                    raise StoreError(f"{self.path} is locked by another program (a database browser, a "
                                     "backup?); close it and try again") from None
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    @contextmanager
    def transaction(self, lease: Lease | None = None):
        """One write transaction. The connection is in autocommit mode, where ``with conn:``
        opens none, so an ``executemany`` would commit every row on its own (10x slower).
        With ``lease``, the write is refused (LeaseLost) unless it is the run's current one;
        the check and the write are one transaction, so no other owner can slip between."""
        self._begin()
        try:
            leases.check(self.conn, lease)
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

    def update_run(self, run_id: str, lease: Lease | None = None, **fields) -> None:
        bad = [k for k in fields if k not in COLUMNS]
        if bad:
            raise KeyError(f"no run column {bad[0]}")
        if not fields:
            return
        if "status" in fields:  # ValueError for a status outside the vocabulary: never stored
            fields["status"] = RunStatus.parse(fields["status"]).value
        if "lease" in fields:
            raise KeyError("the lease is taken with claim_run or requeue, never set")
        sets = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction(lease):
            self.conn.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*fields.values(), run_id))

    def claim_run(self, run_id: str, pid: int, host: str) -> Lease:
        """Take a new lease on a queued run for the worker ``pid``: one compare-and-set on
        status and lease, so of two workers started for one run exactly one wins. The other
        gets a StoreError and must exit without writing. ``control`` is left as it is: a stop
        or pause sent before the worker started is obeyed."""
        row = self.conn.execute("SELECT status, lease FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {run_id!r} in {self.path}")
        now = time.time()
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE runs SET lease = lease + 1, status = ?, pid = ?, host = ?, heartbeat = ?, "
                "started = COALESCE(started, ?), ended = NULL, error = '' "
                "WHERE id = ? AND status = ? AND lease = ?",
                (RunStatus.RUNNING, pid, host, now, now, run_id, RunStatus.QUEUED, row["lease"]))
        if cur.rowcount != 1:
            status = self.get_run(run_id).status
            raise StoreError(f"run {run_id} was not started: it is {status}, not queued "
                             "(another worker took it, or it was stopped first)")
        return Lease(run_id, row["lease"] + 1)

    def requeue(self, run_id: str, fresh: bool = False) -> Run:
        """Queue a stopped, failed or crashed run again with a new lease (which revokes any
        worker still holding the old one): a compare-and-set on the stored status and lease,
        so two resumes at once queue it once. ``fresh``: drop its metric history too."""
        stored = self.conn.execute("SELECT * FROM runs WHERE id = ?", (self.get_run(run_id).id,)).fetchone()
        if stored is None:
            raise StoreError(f"no run {run_id!r} in {self.path}")
        run = as_read(Run.from_row(stored), self.run_dir(stored["id"]))  # the state the CAS expects
        if run.status not in (RunStatus.STOPPED, RunStatus.FAILED, RunStatus.CRASHED):
            raise StoreError(f"run {run.id} is {run.status}; only a stopped, failed or crashed run is resumed")
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE runs SET status = ?, lease = lease + 1, control = '', error = '', pid = NULL, "
                "ended = NULL WHERE id = ? AND status = ? AND lease = ? AND heartbeat IS ?",
                (RunStatus.QUEUED, run.id, stored["status"], run.lease, stored["heartbeat"]))
            if cur.rowcount == 1 and fresh:
                for table in ("metrics", "latest"):
                    self.conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run.id,))
                self.conn.execute("UPDATE runs SET step = 0 WHERE id = ?", (run.id,))
        if cur.rowcount != 1:
            raise StoreError(f"run {run.id} changed while it was being resumed (another resume or its "
                             "worker got there first); nothing was done")
        return self.get_run(run.id)

    def mark_launched(self, run_id: str, pid: int, host: str) -> None:
        """Record the pid of a worker just spawned for a queued run (so a reader sees at once
        if it dies before it starts); a run that has moved on is left alone."""
        with self.transaction():
            self.conn.execute("UPDATE runs SET pid = ?, host = ? WHERE id = ? AND status = ?",
                              (pid, host, run_id, RunStatus.QUEUED))

    def delete_run(self, run_id: str) -> None:
        """Delete the run's rows and folder. Its lease goes with its row, so a worker still
        running it (frozen, or on another host) has every later write refused."""
        with self.transaction():
            for table in ("metrics", "latest", "evals", "artifacts"):
                self.conn.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,))
            self.conn.execute("DELETE FROM runs WHERE id = ?", (run_id,))
        self.remove_files_of_deleted(run_id)

    def remove_files_of_deleted(self, run_id: str) -> None:
        """Remove the folder and cached features of ``run_id`` if its row is gone. A worker
        frozen between its lease check and a file write recreates the folder once it goes
        on; it calls this on its way out, so a deleted run leaves nothing behind."""
        import shutil

        if self.conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
            return
        shutil.rmtree(self.run_dir(run_id).root, ignore_errors=True)
        for cached in self.paths.run_caches(run_id):  # its frozen features go with it
            cached.unlink(missing_ok=True)

    def set_control(self, run_id: str, control: str) -> None:
        self.update_run(run_id, control=control)

    def steer(self, run_id: str, control: str, expect: RunStatus, status: RunStatus,
              unlaunched: bool = False) -> bool:
        """Set ``control`` and ``status`` only while the run is ``expect`` (and, with
        ``unlaunched``, has no worker yet): a pause or un-pause never flips a run that ended
        or changed hands meanwhile. Whether it was set."""
        with self.transaction():
            cur = self.conn.execute(
                "UPDATE runs SET control = ?, status = ? WHERE id = ? AND status = ?"
                + (" AND pid IS NULL" if unlaunched else ""), (control, status, run_id, expect))
        return cur.rowcount == 1

    def get_control(self, run_id: str, lease: Lease | None = None) -> str:
        """The run's ``control`` flag; with ``lease``, LeaseLost once it is not current (the
        worker reads this between steps, so it learns at once that it lost the run)."""
        row = self.conn.execute("SELECT control, lease FROM runs WHERE id = ?", (run_id,)).fetchone()
        if lease is not None and (row is None or row[1] != lease.number):
            raise LeaseLost(lease, None if row is None else row[1])
        return row[0] if row else ""

    # --- metrics -----------------------------------------------------------------------
    def log_metrics(self, run_id: str, rows: list[tuple], lease: Lease | None = None) -> None:
        """rows: (step, epoch, time, key, value). One transaction; also updates ``latest``."""
        if not rows:
            return
        with self.transaction(lease):
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

    def truncate_metrics(self, run_id: str, after_step: int, lease: Lease | None = None) -> None:
        """Drop rows logged after ``after_step`` (a resume replays them) and rebuild ``latest``."""
        with self.transaction(lease):
            self.conn.execute("DELETE FROM metrics WHERE run_id = ? AND step > ?", (run_id, after_step))
            self.conn.execute("DELETE FROM latest WHERE run_id = ?", (run_id,))
            self.conn.execute(
                "INSERT INTO latest (run_id, key, value, step, time) SELECT run_id, key, value, step, time "
                "FROM metrics m WHERE run_id = ? AND id = (SELECT MAX(id) FROM metrics WHERE run_id = m.run_id "
                "AND key = m.key)", (run_id,))

    # --- evals and artifacts -------------------------------------------------------------
    def add_eval(self, run_id: str, protocol: str, dataset: str, params: dict, results: dict,
                 checkpoint: str = "", lease: Lease | None = None) -> int:
        with self.transaction(lease):
            cur = self.conn.execute(
                "INSERT INTO evals (run_id, checkpoint, protocol, dataset, params, results, time) "
                "VALUES (?,?,?,?,?,?,?)", (run_id, checkpoint, protocol, dataset,
                                           json.dumps(params), json.dumps(results), time.time()))
        return cur.lastrowid

    def add_artifact(self, run_id: str, kind: str, path: str, step: int = 0, lease: Lease | None = None) -> None:
        with self.transaction(lease):
            self.conn.execute("INSERT INTO artifacts (run_id, kind, path, step, time) VALUES (?,?,?,?,?)",
                              (run_id, kind, str(path), step, time.time()))

__all__ = ["SCHEMA_VERSION", "Lease", "LeaseLost", "Run", "Store", "StoreError"]
