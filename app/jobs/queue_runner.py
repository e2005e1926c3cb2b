"""The GUI's run-queue scheduler: ``python main.py queue run --until-empty`` started in the
background (through ``engine.runs.process_control``, the one launcher) when a sweep is created
or the window finds work waiting. It is a process of its own: it keeps the queue going when the
window closes, and several of them (another window, a CLI scheduler) never start one run twice."""
from __future__ import annotations

import subprocess
from pathlib import Path

from engine.runs import process_control
from engine.runs.paths import RunPaths

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
