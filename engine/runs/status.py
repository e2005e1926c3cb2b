"""The statuses a run moves through (DESIGN.md, "Store schema"), after MLflow's ``RunStatus``.

A ``str`` Enum: a member equals the string stored in ``runs.status`` (``RunStatus.RUNNING ==
"running"``), so stored values and JSON output stay as they were. Imports nothing heavy: the
GUI reads it before torch is loaded.
"""
from __future__ import annotations

from enum import Enum


class RunStatus(str, Enum):
    QUEUED = "queued"          # waiting for a worker (new, or re-queued for a resume)
    RUNNING = "running"        # a worker owns it and trains
    PAUSED = "paused"          # a worker owns it and waits, checkpoint saved
    COMPLETED = "completed"    # trained every step; the final backbone is saved
    STOPPED = "stopped"        # stopped on request, last checkpoint saved
    FAILED = "failed"          # the worker reported an error
    CRASHED = "crashed"        # the worker vanished (dead pid or stale heartbeat)

    def __str__(self) -> str:  # f"{status}" prints "running", not "RunStatus.RUNNING"
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)

    @classmethod
    def parse(cls, value: str) -> "RunStatus":
        """``value`` as a status; ValueError naming the valid ones otherwise."""
        try:
            return _BY_VALUE[value]  # a dict lookup: Enum's own lookup is slow with 10,000 runs
        except (KeyError, TypeError):
            pass
        try:
            return cls(value)
        except ValueError:
            raise ValueError(f"unknown run status {value!r}; one of {', '.join(s.value for s in cls)}") from None

    @property
    def is_active(self) -> bool:
        """A worker owns the run, or is about to (the liveness check watches these)."""
        return self in ACTIVE

    @property
    def is_resumable(self) -> bool:
        return self in RESUMABLE

    @property
    def is_terminal(self) -> bool:
        """No worker will touch the run again unless it is resumed."""
        return self in TERMINAL

    @property
    def is_evaluable(self) -> bool:
        """It ended with a final or last checkpoint to evaluate."""
        return self in EVALUABLE


_BY_VALUE = {s.value: s for s in RunStatus}
ACTIVE = frozenset({RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED})
TERMINAL = frozenset({RunStatus.COMPLETED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.CRASHED})
# What the user may resume: a paused run goes on in its worker, the others restart from their
# last checkpoint. (A completed run is cloned instead; a queued one is already waiting.)
RESUMABLE = frozenset({RunStatus.PAUSED, RunStatus.STOPPED, RunStatus.FAILED, RunStatus.CRASHED})
# Runs that ended with a checkpoint worth evaluating.
EVALUABLE = frozenset({RunStatus.COMPLETED, RunStatus.STOPPED})
# Ended without the run's say-so: the GUI shows the error.
ERRORED = frozenset({RunStatus.FAILED, RunStatus.CRASHED})
# A clean end of a worker: exit code 0.
CLEAN_END = frozenset({RunStatus.COMPLETED, RunStatus.STOPPED})


def is_active(status: str) -> bool:
    return status in ACTIVE


def is_terminal(status: str) -> bool:
    return status in TERMINAL


def is_resumable(status: str) -> bool:
    return status in RESUMABLE
