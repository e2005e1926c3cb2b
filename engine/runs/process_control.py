"""Starting and steering workers from another process (the GUI, the CLI's --detach)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.runs.status import ACTIVE, RunStatus
from engine.store.database import Store, StoreError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def spawn_worker(home: Path, run_id: str, python: str | None = None) -> subprocess.Popen:
    """Start ``python -m engine.runs.worker RUN_ID --home H`` detached from this process, so it
    outlives the GUI; its pid is stored so readers can tell a dead worker at once."""
    store = Store(home)
    log = open(store.run_dir(run_id).worker_out, "ab")
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
    try:
        proc = subprocess.Popen([python or sys.executable, "-m", "engine.runs.worker", run_id, "--home", str(home)],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=str(PROJECT_ROOT), env=env, start_new_session=True)
    except OSError as e:  # no such interpreter, not executable...: the run says so, the caller gets the error
        store.update_run(run_id, status=RunStatus.FAILED, ended=time.time(), error=f"the worker could not start: {e}")
        store.close()
        raise
    finally:
        log.close()
    store.update_run(run_id, pid=proc.pid, host=__import__("socket").gethostname())
    store.close()
    return proc


def request_stop(store: Store, run_id: str) -> None:
    """Ask a run to stop: the worker checkpoints and ends as ``stopped``. A queued run that
    never started is stopped at once."""
    run = store.get_run(run_id)
    if run.status not in ACTIVE:
        raise StoreError(f"run {run.id} is {run.status}, not running")
    store.set_control(run.id, "stop")
    if run.status == RunStatus.QUEUED and run.pid is None:
        store.update_run(run.id, status=RunStatus.STOPPED, ended=time.time())


def request_pause(store: Store, run_id: str, pause: bool = True) -> None:
    store.set_control(run_id, "pause" if pause else "")
    store.update_run(run_id, status=RunStatus.PAUSED if pause else RunStatus.RUNNING)


def prepare_resume(store: Store, run_id: str) -> str:
    """Mark a stopped, crashed or failed run ``queued`` again; return its id."""
    run = store.get_run(run_id)
    if run.status == RunStatus.RUNNING:
        raise StoreError(f"run {run.id} is already running")
    if run.status == RunStatus.COMPLETED:
        raise StoreError(f"run {run.id} has completed; clone it to train longer")
    store.update_run(run.id, status=RunStatus.QUEUED, control="", error="", pid=None, ended=None)
    return run.id


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
