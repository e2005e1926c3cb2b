"""Store schema and its migrations (versioned with ``PRAGMA user_version``).

A store from a newer Pretext is refused, never rewritten.
"""
from __future__ import annotations

import sqlite3

import sqlite_utils

SCHEMA_VERSION = 3


class StoreError(RuntimeError):
    """The store cannot be used; the message is one readable sentence."""


def _v1(db: sqlite_utils.Database) -> None:
    db["runs"].create({
        "id": str, "name": str, "status": str, "method": str, "backbone": str, "dataset": str,
        "config": str, "created": float, "started": float, "ended": float, "heartbeat": float,
        "pid": int, "host": str, "device": str, "error": str, "parent_id": str, "control": str,
        "notes": str, "tags": str, "step": int, "total_steps": int,
    }, pk="id")
    db["runs"].create_index(["status"])
    db["runs"].create_index(["created"])
    db["metrics"].create({"id": int, "run_id": str, "step": int, "epoch": float, "time": float,
                          "key": str, "value": float}, pk="id")
    db["metrics"].create_index(["run_id", "key", "step"])
    db["metrics"].create_index(["run_id", "id"])
    db["latest"].create({"run_id": str, "key": str, "value": float, "step": int, "time": float},
                        pk=("run_id", "key"))
    db["evals"].create({"id": int, "run_id": str, "checkpoint": str, "protocol": str,
                        "dataset": str, "params": str, "results": str, "time": float}, pk="id")
    db["evals"].create_index(["run_id"])
    db["artifacts"].create({"id": int, "run_id": str, "kind": str, "path": str, "step": int,
                            "time": float}, pk="id")
    db["artifacts"].create_index(["run_id"])


def _v2(db: sqlite_utils.Database) -> None:
    """``runs.lease``: the fencing token of the worker that owns the run (engine/store/lease.py).
    Every start or resume takes the next number; a write carrying an older one is refused."""
    db["runs"].add_column("lease", int, not_null_default=0)


def _v3(db: sqlite_utils.Database) -> None:
    """Sweeps and the run queue (DESIGN.md, "Sweeps and scale-out"; engine/sweeps,
    engine/runs/queue.py). ``runs.sweep_id`` and ``runs.axis_values`` (JSON) link a run to the
    sweep that made it; ``queue`` holds what the scheduler still has to do for a run (train it,
    then evaluate it) and which device slot it holds meanwhile."""
    db["sweeps"].create({"id": int, "name": str, "created": float, "status": str, "method": str,
                         "spec": str, "protocols": str, "concurrency": int, "reference": str,
                         "runs": int}, pk="id")
    db["runs"].add_column("sweep_id", int)
    db["runs"].add_column("axis_values", str, not_null_default="")
    db["runs"].create_index(["sweep_id"])
    db["queue"].create({"run_id": str, "sweep_id": int, "position": float, "stage": str, "slot": str,
                        "holder_pid": int, "holder_host": str, "claimed_at": float, "error": str},
                       pk="run_id", defaults={"error": ""})
    db["queue"].create_index(["stage", "position"])


MIGRATIONS = {1: _v1, 2: _v2, 3: _v3}  # version reached -> function that gets there from the one before


def migrate(conn: sqlite3.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"the experiment store has schema version {version}, newer than this "
                         f"Pretext understands ({SCHEMA_VERSION}); upgrade Pretext to open it")
    if version == SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
        db = sqlite_utils.Database(conn)
        for target in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[target](db)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
