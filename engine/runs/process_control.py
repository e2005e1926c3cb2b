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


def spawn(argv: list[str], log_path: Path, env: dict | None = None, python: str | None = None) -> subprocess.Popen:
    """Start ``python ARGV...`` in the project root, detached from this process (its own
    session, so it outlives the GUI), with stdout and stderr appended to ``log_path``. The one
    way Pretext starts its processes: workers, the queue's evaluations and its scheduler."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", **(env or {}))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH", "")]))
    with open(log_path, "ab") as log:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([python or sys.executable, *argv], stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=str(PROJECT_ROOT), env=env, start_new_session=True)


def spawn_worker(home: Path, run_id: str, python: str | None = None, env: dict | None = None) -> subprocess.Popen:
    """Start ``python -m engine.runs.worker RUN_ID --home H`` detached from this process, so it
    outlives the GUI; its pid is stored so readers can tell a dead worker at once. ``env``: extra
    environment (the queue pins a worker to its slot's GPU with ``CUDA_VISIBLE_DEVICES``)."""
    store = Store(home)
    try:
        proc = spawn(["-m", "engine.runs.worker", run_id, "--home", str(home)], store.run_dir(run_id).worker_out,
                     env, python)
    except OSError as e:  # no such interpreter, not executable...: the run says so, the caller gets the error
        store.update_run(run_id, status=RunStatus.FAILED, ended=time.time(), error=f"the worker could not start: {e}")
        store.close()
        raise
    store.mark_launched(run_id, proc.pid, __import__("socket").gethostname())
    store.close()
    return proc


def request_stop(store: Store, run_id: str) -> None:
    """Ask a run to stop: the worker checkpoints and ends as ``stopped``. A queued run that
    never started is stopped at once; one whose worker is starting keeps the request, which
    the worker reads before its first step."""
    run = store.get_run(run_id)
    if run.status not in ACTIVE:
        raise StoreError(f"run {run.id} is {run.status}, not running")
    if run.status == RunStatus.QUEUED and store.steer(run.id, "stop", RunStatus.QUEUED, RunStatus.STOPPED,
                                                      unlaunched=True):
        store.update_run(run.id, ended=time.time())
        return
    store.set_control(run.id, "stop")


def request_pause(store: Store, run_id: str, pause: bool = True) -> None:
    """Pause a running run (its worker checkpoints and waits) or let a paused one go on. A
    run that ended or changed hands meanwhile is left as it is (StoreError)."""
    run = store.get_run(run_id)
    if run.status == RunStatus.QUEUED and run.pid is not None:  # its worker is starting: it pauses
        store.set_control(run.id, "pause" if pause else "")      # before its first step
        return
    expect, status = (RunStatus.RUNNING, RunStatus.PAUSED) if pause else (RunStatus.PAUSED, RunStatus.RUNNING)
    if not store.steer(store.get_run(run_id).id, "pause" if pause else "", expect, status):
        raise StoreError(f"run {run_id} is {store.get_run(run_id).status}, not {expect}")


def prepare_resume(store: Store, run_id: str, fresh: bool = False) -> str | None:
    """Queue a stopped, crashed or failed run again under a new lease and return its id; a
    worker must then be started for it. A paused run (its worker alive) is un-paused in that
    worker instead, and None returned: no second worker."""
    run = store.get_run(run_id)
    run.check_usable()
    if run.status == RunStatus.PAUSED:
        request_pause(store, run.id, False)
        return None
    if run.status in (RunStatus.RUNNING, RunStatus.QUEUED):
        raise StoreError(f"run {run.id} is already {run.status}")
    if run.status == RunStatus.COMPLETED:
        raise StoreError(f"run {run.id} has completed; clone it to train longer")
    if not fresh:
        missing_checkpoint(store, run.id)
    return store.requeue(run.id, fresh=fresh).id


class NoCheckpointError(StoreError):
    """A resume that would start again at step 0 and replace ``rows`` metric rows: the GUI
    offers the fresh start, the CLI names ``--fresh``."""

    def __init__(self, run_id: str, rows: int):
        self.run_id, self.rows = run_id, rows
        super().__init__(f"run {run_id} has no checkpoint to resume from, so it would start again at step 0 "
                         f"and lose its {rows} metric rows; to start it afresh run: "
                         f"python main.py resume {run_id} --fresh")


def missing_checkpoint(store: Store, run_id: str) -> None:
    """NoCheckpointError if the run has metric history but no checkpoint to continue it
    from: a resume would start again at step 0 and replace that history, so it needs the
    user's say."""
    if store.run_dir(run_id).last_checkpoint.exists():
        return
    rows = store.conn.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run_id,)).fetchone()[0]
    if rows:
        raise NoCheckpointError(run_id, rows)


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
