"""Pausing, resuming and cancelling a sweep (``python main.py sweep pause|resume|cancel ID``
and the GUI's Sweep view).

Pause holds the sweep's queued runs (runs already training go on; a paused sweep starts
nothing new); resume lets them start again; cancel stops every run of the sweep that has not
ended (queued ones at once, running ones checkpoint and stop) and drops its pending evaluations.
"""
from __future__ import annotations

from engine.runs.process_control import request_stop
from engine.runs.queue_stage import QueueStage
from engine.store import queue_table
from engine.store.database import Store, StoreError
from engine.store.sweep_record import Sweep, get_sweep, set_sweep_status
from engine.sweeps.status import SweepStatus


def pause(store: Store, sweep_id) -> Sweep:
    sweep = get_sweep(store, sweep_id)
    if not set_sweep_status(store, sweep.id, SweepStatus.PAUSED, (SweepStatus.ACTIVE,)):
        raise StoreError(f"sweep {sweep.id} is {sweep.status}; only an active sweep is paused")
    return get_sweep(store, sweep.id)


def resume(store: Store, sweep_id) -> Sweep:
    sweep = get_sweep(store, sweep_id)
    if not set_sweep_status(store, sweep.id, SweepStatus.ACTIVE, (SweepStatus.PAUSED,)):
        raise StoreError(f"sweep {sweep.id} is {sweep.status}; only a paused sweep is resumed")
    return get_sweep(store, sweep.id)


def cancel(store: Store, sweep_id) -> tuple[Sweep, int]:
    """Cancel the sweep; (the sweep, how many runs were asked to stop)."""
    sweep = get_sweep(store, sweep_id)
    if not set_sweep_status(store, sweep.id, SweepStatus.CANCELLED, (SweepStatus.ACTIVE, SweepStatus.PAUSED)):
        raise StoreError(f"sweep {sweep.id} is already {sweep.status}")
    stopped = 0
    for item in queue_table.items(store, sweep.id, pending_only=True):
        if item.stage == QueueStage.EVAL and item.slot is None:
            queue_table.set_stage(store, item.run_id, QueueStage.DONE, QueueStage.EVAL, "cancelled")
            continue
        if item.stage != QueueStage.TRAIN:
            continue
        try:
            request_stop(store, item.run_id)
            stopped += 1
        except StoreError:
            pass  # it ended meanwhile: the scheduler settles it
    return get_sweep(store, sweep.id), stopped
