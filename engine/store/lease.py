"""Run ownership with fencing (DESIGN.md, "Process model": one owner per run).

``runs.lease`` is a number that grows by one each time a run is started or re-queued. The
worker that started it holds a ``Lease`` (run id + number) and passes it with every write;
the store checks it inside the write's own transaction and refuses the write with
``LeaseLost`` once the number moved on (a newer worker took the run, a resume re-queued it)
or the row is gone (the run was deleted). A frozen-then-continued worker or a second worker
started by a race therefore cannot write a single row.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from engine.store.schema import StoreError


@dataclass(frozen=True)
class Lease:
    run_id: str
    number: int

    @property
    def tag(self) -> str:
        """Part of the names of files only this owner writes (checkpoint temp files)."""
        return f"L{self.number}"


class LeaseLost(StoreError):
    """This worker no longer owns its run: it must stop at once and write nothing more."""

    def __init__(self, lease: Lease, current: int | None):
        self.lease, self.current = lease, current
        why = "the run was deleted" if current is None else f"lease {current} took it over"
        super().__init__(f"run {lease.run_id}: lease {lease.number} is no longer current ({why})")


def check(conn: sqlite3.Connection, lease: Lease | None) -> None:
    """Raise LeaseLost unless ``lease`` is the run's current one (None: an unfenced write,
    e.g. the GUI setting ``control``). Call it inside the write's transaction."""
    if lease is None:
        return
    row = conn.execute("SELECT lease FROM runs WHERE id = ?", (lease.run_id,)).fetchone()
    if row is None or row[0] != lease.number:
        raise LeaseLost(lease, None if row is None else row[0])
