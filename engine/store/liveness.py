"""Whether a run that says a worker owns it still has one: derived on read, never written
by a reader (DESIGN.md, "Process model").

A run reads as ``crashed`` when its worker's pid is gone on this host, or, for a worker we
cannot see (another host, no pid), when its heartbeat is older than
``PRETEXT_HEARTBEAT_TIMEOUT``. A live pid on this host is never called crashed: a worker
waiting out a database lock, or frozen by SIGSTOP, is still the owner.
"""
from __future__ import annotations

import dataclasses
import os
import socket
import time

from engine.runs.paths import RunDir
from engine.runs.status import ACTIVE, RunStatus
from engine.store.schema import StoreError

DEFAULT_HEARTBEAT_TIMEOUT = 20.0


def heartbeat_timeout() -> float:
    """``PRETEXT_HEARTBEAT_TIMEOUT`` in seconds (read each time: tests and readers set it)."""
    text = os.environ.get("PRETEXT_HEARTBEAT_TIMEOUT", "")
    if not text.strip():
        return DEFAULT_HEARTBEAT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise StoreError(f"PRETEXT_HEARTBEAT_TIMEOUT must be a positive number of seconds, not {text!r}")
    return value


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited child not yet reaped) is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def last_words(run_dir: RunDir) -> str:
    """The last line a worker printed (its ``worker.out``), e.g. an import error, or ""."""
    try:
        with open(run_dir.worker_out, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - 2000))
            lines = [line.strip() for line in f.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return f" (last output: {lines[-1][:200]})" if lines else ""


def crash_reason(run, run_dir: RunDir, now: float | None = None) -> str | None:
    """Why ``run`` (an engine.store.run_record.Run) has lost its worker, or None."""
    if run.status not in ACTIVE or (run.status == RunStatus.QUEUED and run.pid is None):
        return None  # ended, or not launched yet
    if run.host == socket.gethostname() and run.pid is not None:
        if pid_alive(run.pid):
            return None
        return "the worker process exited without reporting" + last_words(run_dir)
    if run.status == RunStatus.QUEUED:
        return None  # launched elsewhere, not started yet: no heartbeat to judge by
    now = time.time() if now is None else now
    last = run.heartbeat or run.started or run.created
    if now - last > heartbeat_timeout():
        return f"no heartbeat for {now - last:.0f} s"
    return None


def as_read(run, run_dir: RunDir):
    """``run`` as readers see it: ``crashed`` (with the reason as its error) when its worker
    is gone, else unchanged. The stored row is left as it is: a writer (a resume) replaces it."""
    why = crash_reason(run, run_dir)
    if why is None:
        return run
    return dataclasses.replace(run, status=RunStatus.CRASHED, error=run.error or why,
                               ended=run.ended or run.heartbeat or run.started)
