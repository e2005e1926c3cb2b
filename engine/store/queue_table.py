"""The ``queue`` table: what the scheduler (engine/runs/queue.py) still has to do for each
queued run, and which device slot each piece of work holds.

A row moves ``train`` -> ``eval`` -> ``done`` (``QueueStage``). While work runs its row holds a
``slot`` (e.g. ``cpu/0``, ``cuda:1/0``) with the ``holder`` process (the worker, or the
evaluation process). Every claim is one ``BEGIN IMMEDIATE`` transaction that counts the slots
held and takes a free one only if the row is still unclaimed, so two schedulers (two GUIs, a
GUI and ``python main.py queue run``) never start the same work, nor more than a slot allows.
"""
from __future__ import annotations

import os
import socket
import sqlite3
import time
from dataclasses import dataclass

from engine.runs.queue_stage import QueueStage
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError
from engine.sweeps.status import SweepStatus


@dataclass(frozen=True)
class QueueItem:
    run_id: str
    sweep_id: int | None
    position: float
    stage: QueueStage
    slot: str | None
    holder_pid: int | None
    holder_host: str | None
    claimed_at: float | None
    error: str = ""

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> QueueItem:
        return cls(row["run_id"], row["sweep_id"], row["position"], QueueStage(row["stage"]), row["slot"],
                   row["holder_pid"], row["holder_host"], row["claimed_at"], row["error"] or "")


def items(store: Store, sweep_id: int | None = None, pending_only: bool = False) -> list[QueueItem]:
    sql, args = "SELECT * FROM queue", []
    where = []
    if sweep_id is not None:
        where.append("sweep_id = ?")
        args.append(sweep_id)
    if pending_only:
        where.append("stage != ?")
        args.append(QueueStage.DONE)
    sql += (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY position"
    return [QueueItem.from_row(r) for r in store.conn.execute(sql, args)]


def enqueue_run(store: Store, config: dict, name: str = "") -> str:
    """Create a queued run of its own (no sweep) with its entry at the end of the queue, in one
    transaction: the scheduler starts it when a device slot is free (the New run view's Start)."""
    with store.transaction() as conn:
        run_id = store.create_run(config, name=name)
        position = conn.execute("SELECT COALESCE(MAX(position), 0) FROM queue").fetchone()[0] + 1
        conn.execute("INSERT INTO queue (run_id, sweep_id, position, stage, error) VALUES (?, NULL, ?, ?, '')",
                     (run_id, position, QueueStage.TRAIN))
    return run_id


def return_to_queue(store: Store, run_id: str) -> None:
    """Put a run that ``prepare_resume`` queued again back in the queue, at its end, so a
    scheduler starts it when a slot is free (the GUI's Resume: a resumed run shares the device
    slots like any other). A run started outside the queue gets an entry of its own. A run of a
    completed sweep makes the sweep active again, so its evaluation follows; a cancelled sweep's
    run trains as one of its own (no evaluation); a paused sweep's waits for the sweep."""
    with store.transaction() as conn:
        row = conn.execute("SELECT r.status, r.sweep_id, s.status AS sweep_status FROM runs r "
                           "LEFT JOIN sweeps s ON s.id = r.sweep_id WHERE r.id = ?", (run_id,)).fetchone()
        if row is None or row["status"] != RunStatus.QUEUED:
            raise StoreError(f"run {run_id} is not queued to resume")
        sweep_id = None if row["sweep_status"] in (None, SweepStatus.CANCELLED) else row["sweep_id"]
        if row["sweep_status"] == SweepStatus.COMPLETED:
            conn.execute("UPDATE sweeps SET status = ? WHERE id = ?", (SweepStatus.ACTIVE, sweep_id))
        position = conn.execute("SELECT COALESCE(MAX(position), 0) FROM queue").fetchone()[0] + 1
        conn.execute("INSERT INTO queue (run_id, sweep_id, position, stage, error) VALUES (?, ?, ?, ?, '') "
                     "ON CONFLICT (run_id) DO UPDATE SET sweep_id = excluded.sweep_id, position = excluded.position, "
                     "stage = excluded.stage, error = '', slot = NULL, holder_pid = NULL, holder_host = NULL, "
                     "claimed_at = NULL", (run_id, sweep_id, position, QueueStage.TRAIN))


def waiting_runs(store: Store) -> list[str]:
    """Runs of their own (no sweep) still waiting to train: a scheduler must serve them."""
    return [r[0] for r in store.conn.execute(
        "SELECT run_id FROM queue WHERE sweep_id IS NULL AND stage = ? AND slot IS NULL ORDER BY position",
        (QueueStage.TRAIN,))]


def held(store: Store) -> list[QueueItem]:
    return [QueueItem.from_row(r) for r in store.conn.execute("SELECT * FROM queue WHERE slot IS NOT NULL")]


# Work the scheduler may start now: an evaluation of a trained run, or a queued run that no
# worker was launched for, of a sweep that is active and under its own concurrency.
_NEXT = """
SELECT q.run_id, q.stage FROM queue q JOIN runs r ON r.id = q.run_id LEFT JOIN sweeps s ON s.id = q.sweep_id
WHERE q.slot IS NULL AND (q.stage = ? OR (q.stage = ? AND r.status = ? AND r.pid IS NULL))
  AND (s.id IS NULL OR s.status = ?)
  AND (s.id IS NULL OR COALESCE(s.concurrency, 0) = 0
       OR (SELECT COUNT(*) FROM queue h WHERE h.sweep_id = q.sweep_id AND h.slot IS NOT NULL) < s.concurrency)
ORDER BY q.stage = ? DESC, q.position LIMIT 1"""


def claim_next(store: Store, slots: list[str]) -> tuple[QueueItem, str] | None:
    """Take the next piece of work and a free slot from ``slots`` for this process, in one
    transaction; None when no slot is free or nothing waits."""
    with store.transaction() as conn:
        taken = {r[0] for r in conn.execute("SELECT slot FROM queue WHERE slot IS NOT NULL")}
        free = [s for s in slots if s not in taken]
        if not free:
            return None
        row = conn.execute(_NEXT, (QueueStage.EVAL, QueueStage.TRAIN, RunStatus.QUEUED, SweepStatus.ACTIVE,
                                   QueueStage.EVAL)).fetchone()
        if row is None:
            return None
        cur = conn.execute("UPDATE queue SET slot = ?, holder_pid = ?, holder_host = ?, claimed_at = ? "
                           "WHERE run_id = ? AND slot IS NULL",
                           (free[0], os.getpid(), socket.gethostname(), time.time(), row["run_id"]))
        if cur.rowcount != 1:  # cannot happen inside BEGIN IMMEDIATE; refuse rather than double-start
            raise StoreError(f"queue entry of run {row['run_id']} changed while it was claimed")
        item = QueueItem.from_row(conn.execute("SELECT * FROM queue WHERE run_id = ?", (row["run_id"],)).fetchone())
    return item, free[0]


def set_holder(store: Store, run_id: str, slot: str, pid: int, host: str | None = None) -> None:
    """The process now doing the work in ``slot`` (the worker or evaluation just started)."""
    with store.transaction() as conn:
        conn.execute("UPDATE queue SET holder_pid = ?, holder_host = ? WHERE run_id = ? AND slot = ?",
                     (pid, host or socket.gethostname(), run_id, slot))


def release(store: Store, item: QueueItem, stage: QueueStage, error: str = "") -> bool:
    """Free ``item``'s slot and move it to ``stage`` -- only if it still holds that slot under the
    same claim (compare-and-set), so a scheduler never frees a slot someone claimed again."""
    with store.transaction() as conn:
        cur = conn.execute(
            "UPDATE queue SET slot = NULL, holder_pid = NULL, holder_host = NULL, stage = ?, "
            "error = CASE WHEN ? = '' THEN error ELSE ? END "
            "WHERE run_id = ? AND slot IS ? AND claimed_at IS ?",
            (stage, error, error, item.run_id, item.slot, item.claimed_at))
    return cur.rowcount == 1


def set_stage(store: Store, run_id: str, stage: QueueStage, expect: QueueStage, error: str = "") -> bool:
    """Move an entry that holds no slot from ``expect`` to ``stage``."""
    with store.transaction() as conn:
        cur = conn.execute("UPDATE queue SET stage = ?, error = ? WHERE run_id = ? AND stage = ? AND slot IS NULL",
                           (stage, error, run_id, expect))
    return cur.rowcount == 1


def move(store: Store, run_id: str, position: int) -> list[str]:
    """Put the pending entry of ``run_id`` at 1-based ``position`` among pending entries (the
    rest keep their order); the new order of run ids."""
    with store.transaction() as conn:
        order = [r[0] for r in conn.execute("SELECT run_id FROM queue WHERE stage != ? ORDER BY position",
                                            (QueueStage.DONE,))]
        if run_id not in order:
            raise StoreError(f"run {run_id} is not waiting in the queue")
        order.remove(run_id)
        order.insert(max(0, min(len(order), position - 1)), run_id)
        base = conn.execute("SELECT COALESCE(MIN(position), 1) FROM queue WHERE stage != ?",
                            (QueueStage.DONE,)).fetchone()[0]
        conn.executemany("UPDATE queue SET position = ? WHERE run_id = ?",
                         [(base + i, rid) for i, rid in enumerate(order)])
    return order
