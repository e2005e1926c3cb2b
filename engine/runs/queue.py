"""The run queue's scheduler: starts queued runs as device slots free up, then evaluates each
trained run of a sweep with the sweep's protocols (DESIGN.md, "Sweeps and scale-out").

The queue lives in the store (``queue`` table, engine/store/queue_table.py), so closing the GUI
loses nothing: any scheduler -- ``python main.py queue run``, or the one the GUI starts --
picks it up where the last one left it. Each tick

1. *settles* the slots held: a slot is freed when its run ended (the worker wrote a terminal
   status, or it crashed), or when the evaluation process holding it is gone;
2. *dispatches*: claims the next work for every free slot (atomically, in the store) and
   starts it through the executor -- a worker for a queued run, an evaluation for a trained one;
3. marks sweeps with nothing left to do ``completed``.

A run that fails frees its slot like any other: the next one starts.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.runs.executor import Executor, LocalExecutor
from engine.runs.queue_stage import QueueStage
from engine.runs.status import RunStatus
from engine.store import queue_table
from engine.store.database import Store, StoreError
from engine.store.queue_table import QueueItem
from engine.store.sweep_record import get_sweep, list_sweeps, set_sweep_status
from engine.sweeps.status import SweepStatus

POLL_SECONDS = 1.0


@dataclass
class Tick:
    """What one tick did (for the CLI's log and the tests)."""
    started: list[tuple[str, QueueStage, str]] = field(default_factory=list)  # (run, stage, slot)
    freed: list[str] = field(default_factory=list)
    completed_sweeps: list[int] = field(default_factory=list)
    pending: int = 0   # entries still to act on after the tick (Scheduler.pending)


class Scheduler:
    def __init__(self, home: Path, slots: list[str] | None = None, executor: Executor | None = None):
        from engine.runs.slots import default_slots

        self.home = Path(home)
        self.slots = list(slots) if slots else default_slots()
        self.executor = executor or LocalExecutor()
        self.store = Store(self.home)

    def close(self) -> None:
        self.store.close()

    # --- 1. settle -------------------------------------------------------------------------------
    def _after_training(self, run) -> QueueStage:
        if run.status != RunStatus.COMPLETED or run.sweep_id is None:
            return QueueStage.DONE
        sweep = get_sweep(self.store, run.sweep_id)
        return QueueStage.EVAL if sweep.protocols and sweep.status != SweepStatus.CANCELLED else QueueStage.DONE

    def _settle_training(self, item: QueueItem) -> str | None:
        """The stage to move a held training entry to, or None while its run goes on."""
        try:
            run = self.store.get_run(item.run_id)
        except StoreError:
            return QueueStage.DONE  # deleted
        if run.status.is_terminal:
            return self._after_training(run)
        if run.status == RunStatus.QUEUED and run.pid is None and not self.executor.holder_alive(item):
            return QueueStage.TRAIN  # the scheduler that claimed it died before starting a worker
        return None

    def settle(self, tick: Tick) -> None:
        for item in queue_table.held(self.store):
            if item.stage == QueueStage.TRAIN:
                stage = self._settle_training(item)
                error = ""
            elif self.executor.holder_alive(item):
                stage = None
            else:
                stage = QueueStage.DONE
                error = "the evaluation process exited without reporting" + eval_last_words(self.store, item.run_id)
            if stage is not None and queue_table.release(self.store, item, QueueStage(stage), error):
                tick.freed.append(item.run_id)
        self._settle_waiting()

    def _settle_waiting(self) -> None:
        """Entries waiting to train whose run ended without the queue (stopped by hand, cancelled)."""
        for item in queue_table.items(self.store, pending_only=True):
            if item.slot is not None or item.stage != QueueStage.TRAIN:
                continue
            try:
                run = self.store.get_run(item.run_id)
            except StoreError:
                queue_table.set_stage(self.store, item.run_id, QueueStage.DONE, QueueStage.TRAIN)
                continue
            if run.status.is_terminal:
                queue_table.set_stage(self.store, item.run_id, self._after_training(run), QueueStage.TRAIN)

    # --- 2. dispatch -----------------------------------------------------------------------------
    def dispatch(self, tick: Tick) -> None:
        while (claimed := queue_table.claim_next(self.store, self.slots)) is not None:
            item, slot = claimed
            try:
                if item.stage == QueueStage.TRAIN:
                    pid = self.executor.start_training(self.home, item.run_id, slot)
                else:
                    pid = self.executor.start_evaluation(self.home, item.run_id, slot)
            except (OSError, StoreError) as e:  # the run records why; the queue goes on
                queue_table.release(self.store, item, QueueStage.DONE, f"could not start: {e}")
                continue
            queue_table.set_holder(self.store, item.run_id, slot, pid)
            tick.started.append((item.run_id, item.stage, slot))

    # --- 3. sweeps ---------------------------------------------------------------------------------
    def finish_sweeps(self, tick: Tick) -> None:
        pending = {i.sweep_id for i in queue_table.items(self.store, pending_only=True)}
        for sweep in list_sweeps(self.store):
            if sweep.status == SweepStatus.ACTIVE and sweep.id not in pending and set_sweep_status(
                    self.store, sweep.id, SweepStatus.COMPLETED, (SweepStatus.ACTIVE,)):
                tick.completed_sweeps.append(sweep.id)

    def tick(self) -> Tick:
        tick = Tick()
        self.executor.reap()
        self.settle(tick)
        self.dispatch(tick)
        self.finish_sweeps(tick)
        tick.pending = self.pending()
        return tick

    def pending(self) -> int:
        """Entries this scheduler may still act on: held ones, and waiting ones of active sweeps
        (a paused sweep's runs do not keep ``--until-empty`` going)."""
        active = {s.id for s in list_sweeps(self.store) if s.status == SweepStatus.ACTIVE}
        return sum(1 for i in queue_table.items(self.store, pending_only=True)
                   if i.slot is not None or i.sweep_id is None or i.sweep_id in active)

    def run(self, until_empty: bool = False, poll: float = POLL_SECONDS, should_stop: Callable[[], bool] | None = None,
            report: Callable[[Tick], None] | None = None) -> None:
        """Tick every ``poll`` seconds until ``should_stop()``, or (``until_empty``) until no entry
        is pending. Work already started goes on when the scheduler ends."""
        while True:
            tick = self.tick()
            if report:
                report(tick)
            if (until_empty and tick.pending == 0) or (should_stop and should_stop()):
                return
            time.sleep(poll)


def eval_last_words(store: Store, run_id: str) -> str:
    """The last line the run's evaluation process printed, as `` (last output: ...)``, or ""."""
    try:
        text = store.run_dir(run_id).eval_out.read_text(errors="replace")
    except OSError:
        return ""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return f" (last output: {lines[-1][:200]})" if lines else ""
