"""The GUI's run-queue scheduler: ``python main.py queue run --until-empty`` started in the
background (through ``engine.runs.process_control``, the one launcher) when a sweep is created,
a run is started from the New run view (it waits in the queue while the device's slots are
taken), or the window finds work waiting. It is a process of its own: it keeps the queue going when the
window closes, and several of them (another window, a CLI scheduler) never start one run twice."""
from __future__ import annotations

import subprocess
from pathlib import Path

from app.jobs.store_poller import gui_store
from engine.runs import process_control
from engine.runs.paths import RunPaths
from engine.store import queue_table

_proc: subprocess.Popen | None = None


def running() -> bool:
    return _proc is not None and _proc.poll() is None


def ensure_running(home: Path) -> subprocess.Popen:
    """Start a scheduler for ``home`` unless the one this window started still runs."""
    global _proc
    if running():
        return _proc
    _proc = process_control.spawn(["main.py", "queue", "run", "--until-empty", "--home", str(home)],
                                  RunPaths(home).queue_log)
    return _proc


def serve_waiting(home: Path) -> bool:
    """Start a scheduler if runs of their own wait in the queue and none of ours runs (a window
    that closed before their turn, or a scheduler that was just ending as a run joined the
    queue); whether one was started. The main window asks on its status timer."""
    if running():
        return False
    store = gui_store(home)
    try:
        waiting = queue_table.waiting_runs(store)
    finally:
        store.close()
    if waiting:
        ensure_running(home)
    return bool(waiting)


def stop(timeout: float = 10.0) -> None:
    """End the scheduler this window started (runs it started go on, or are stopped separately)."""
    global _proc
    if _proc is None:
        return
    if _proc.poll() is None:
        _proc.terminate()
        try:
            _proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _proc.kill()
            _proc.wait()
    _proc = None
