"""Steering engine workers from the GUI (through ``engine.runs.process_control``): resume, stop,
pause. Workers are started by the run queue's scheduler (``app.jobs.queue_runner``), never by the
window, so the window holds no worker's process; a run's state always comes from the store.
"""
from __future__ import annotations

from engine.runs import process_control as launch
from engine.store import queue_table
from engine.store.database import Store


def requeue(store: Store, run_id: str, fresh: bool = False) -> bool:
    """The store's part of resuming a stopped, crashed or failed run: queue it again, to go on
    from its last checkpoint when the run queue's scheduler has a free device slot for it
    (``fresh``: at step 0, its metric history discarded); a sweep's run is evaluated after, as
    its sweep's are. A paused run is un-paused in its own worker instead. Whether the run now
    waits in the queue (then ``queue_runner.ensure_running``, on the main thread). Without a
    checkpoint and without ``fresh`` it raises ``NoCheckpointError``, for the view to offer the
    fresh start."""
    queued = launch.prepare_resume(store, run_id, fresh=fresh)
    if queued is not None:  # None: a paused run, un-paused in its own worker
        queue_table.return_to_queue(store, queued)
    return queued is not None


def stop(store: Store, run_id: str) -> None:
    launch.request_stop(store, run_id)


def pause(store: Store, run_id: str, paused: bool = True) -> None:
    launch.request_pause(store, run_id, paused)
