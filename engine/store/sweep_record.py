"""One row of the ``sweeps`` table as a typed, read-only value, and the sweep-side writes of
the store: creating a sweep with all its runs in one transaction, listing, changing status.

A sweep (engine/sweeps) is stored whole or not at all: its runs are validated first
(``engine.sweeps.spec.plan``), then the sweep row, the run rows and their queue entries are
written in one transaction.
"""
from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass

from engine.runs.queue_stage import QueueStage
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError
from engine.store.run_record import Run
from engine.sweeps.spec import PlannedRun, SweepSpec, normalize
from engine.sweeps.status import SweepStatus


@dataclass(frozen=True)
class Sweep:
    id: int
    name: str
    created: float
    status: SweepStatus
    method: str
    spec: SweepSpec
    concurrency: int
    reference: str      # the random-initialisation reference run ('' until built; engine/sweeps/auto_eval.py)
    runs: int           # how many runs it made

    @property
    def protocols(self) -> tuple[str, ...]:
        return self.spec.protocols

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Sweep:
        return cls(id=row["id"], name=row["name"], created=row["created"], status=SweepStatus.parse(row["status"]),
                   method=row["method"], spec=SweepSpec.from_json(json.loads(row["spec"])),
                   concurrency=row["concurrency"] or 0, reference=row["reference"] or "", runs=row["runs"] or 0)


def create_sweep(store: Store, spec: SweepSpec, planned: list[PlannedRun]) -> int:
    """Store the sweep, its runs (queued) and their queue entries in one transaction."""
    spec = normalize(spec)
    with store.transaction() as conn:
        cur = conn.execute(
            "INSERT INTO sweeps (name, created, status, method, spec, protocols, concurrency, reference, runs) "
            "VALUES (?,?,?,?,?,?,?,'',?)",
            (spec.title(), time.time(), SweepStatus.ACTIVE, spec.method, json.dumps(spec.to_json()),
             json.dumps(list(spec.protocols)), spec.concurrency, len(planned)))
        sweep_id = cur.lastrowid
        start = conn.execute("SELECT COALESCE(MAX(position), 0) FROM queue").fetchone()[0]
        for i, run in enumerate(planned):
            run_id = store.create_run(run.config, name=run.name)
            conn.execute("UPDATE runs SET sweep_id = ?, axis_values = ? WHERE id = ?",
                         (sweep_id, json.dumps(run.axis_values), run_id))
            conn.execute("INSERT INTO queue (run_id, sweep_id, position, stage, error) VALUES (?,?,?,?,'')",
                         (run_id, sweep_id, start + i + 1, QueueStage.TRAIN))
    return sweep_id


def get_sweep(store: Store, sweep_id) -> Sweep:
    try:
        key = int(sweep_id)
    except (TypeError, ValueError):
        raise StoreError(f"a sweep is named by its number, not {sweep_id!r} (see: python main.py sweep list)") from None
    row = store.conn.execute("SELECT * FROM sweeps WHERE id = ?", (key,)).fetchone()
    if row is None:
        raise StoreError(f"no sweep {key} in {store.path}")
    return Sweep.from_row(row)


def list_sweeps(store: Store) -> list[Sweep]:
    return [Sweep.from_row(r) for r in store.conn.execute("SELECT * FROM sweeps ORDER BY id DESC")]


def sweep_runs(store: Store, sweep_id: int) -> list[Run]:
    """The sweep's runs (status as read, latest metrics joined), in queue order."""
    order = {r[0]: r[1] for r in store.conn.execute("SELECT run_id, position FROM queue WHERE sweep_id = ?",
                                                      (sweep_id,))}
    runs = [r for r in store.list_runs() if r.sweep_id == sweep_id]
    return sorted(runs, key=lambda r: (order.get(r.id, float("inf")), r.created))


def set_sweep_status(store: Store, sweep_id: int, status: SweepStatus, expect: tuple[SweepStatus, ...]) -> bool:
    """Compare-and-set the sweep's status; whether it changed."""
    marks = ",".join("?" * len(expect))
    with store.transaction() as conn:
        cur = conn.execute(f"UPDATE sweeps SET status = ? WHERE id = ? AND status IN ({marks})",
                           (status, sweep_id, *expect))
    return cur.rowcount == 1


def set_reference(store: Store, sweep_id: int, value: str, expect: str) -> bool:
    """Compare-and-set ``sweeps.reference`` (the random-init reference run, or a claim on building it)."""
    with store.transaction() as conn:
        cur = conn.execute("UPDATE sweeps SET reference = ? WHERE id = ? AND reference = ?", (value, sweep_id, expect))
    return cur.rowcount == 1


def status_counts(runs: list[Run]) -> dict[RunStatus, int]:
    out: dict[RunStatus, int] = {}
    for r in runs:
        out[r.status] = out.get(r.status, 0) + 1
    return out


@dataclass(frozen=True)
class SweepSummary:
    """A sweep as the Sweeps view lists it."""
    sweep: Sweep
    by_status: dict            # RunStatus -> count
    evaluated: int             # runs with at least one evaluation
    pending: int               # queue entries not done


def summaries(home) -> tuple[list[SweepSummary], int]:
    """Every sweep with its run counts, and how many queue entries wait in all (opens its own
    store: the GUI calls it on a background thread)."""
    from engine.store import queue_table

    with Store(home) as store:
        runs = store.list_runs()
        pending = queue_table.items(store, pending_only=True)
        out = []
        for sweep in list_sweeps(store):
            mine = [r for r in runs if r.sweep_id == sweep.id]
            out.append(SweepSummary(sweep, status_counts(mine), sum(1 for r in mine if r.evals),
                                    sum(1 for i in pending if i.sweep_id == sweep.id)))
    return out, len(pending)


def plan_and_create(home, spec: SweepSpec) -> tuple[int, int]:
    """Validate every run of ``spec`` and store the sweep (nothing when one is invalid:
    ParamError); (sweep id, runs). Opens its own store (the GUI calls it off its thread)."""
    from engine.sweeps.spec import plan

    planned = plan(spec)
    with Store(home) as store:
        return create_sweep(store, spec, planned), len(planned)
