"""How long a run has trained: the seconds its workers were active, not the time it sat
paused, stopped, failed or crashed before a resume.

The worker keeps an ``ActiveClock`` (stopped while the run is paused) and logs its reading as
the metric ``active_seconds`` with every stored step; a resumed worker continues from the value
stored at its checkpoint (rows after it are replayed, so their time is counted once).
``run_seconds`` is what tables show; it imports nothing heavy.
"""
from __future__ import annotations

import time

ACTIVE_KEY = "active_seconds"


class ActiveClock:
    """Seconds running since it was made, plus ``base``, not counting the time paused."""

    def __init__(self, base: float = 0.0, clock=time.monotonic):
        self.base, self.clock = float(base), clock
        self.since: float | None = clock()

    def pause(self) -> None:
        if self.since is not None:
            self.base += self.clock() - self.since
            self.since = None

    def resume(self) -> None:
        if self.since is None:
            self.since = self.clock()

    def seconds(self) -> float:
        return self.base + (self.clock() - self.since if self.since is not None else 0.0)


def run_seconds(run, now: float | None = None) -> float | None:
    """A run's (``engine.store.run_record.Run``, from ``Store.list_runs``) active training
    seconds; for a run stored before ``active_seconds`` was logged, start to end (to now while
    it runs), as before. None for a run that never started."""
    from engine.runs.status import RunStatus

    if ACTIVE_KEY in run.latest:
        return float(run.latest[ACTIVE_KEY])
    start = run.started
    if not start:
        return None
    if run.status in (RunStatus.RUNNING, RunStatus.PAUSED):
        return (run.ended or (now or time.time())) - start
    return (run.ended - start) if run.ended else None
