"""Guarantee 1: a worker killed with SIGKILL (mid-epoch, or between writing a checkpoint's
temp file and renaming it) shows as ``crashed`` to every reader, keeps its previous
checkpoint, and resumes into the same curves and the same model as an uninterrupted run."""
import contextlib
import os
import signal
import subprocess
import sys
import time

import pytest
from fault_helpers import (
    ROOT,
    assert_same_model,
    slow_run,
    start_worker,
    steps_of,
    tiny_config,
    wait_for,
    worker_env,
)

from engine.runs.process_control import prepare_resume
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training import checkpoint

pytestmark = pytest.mark.faults


def _last(store, run_id) -> dict:
    return checkpoint.load(store.run_dir(run_id).last_checkpoint)


def _straight(home, config) -> str:
    """The same config trained without interruption, in this process."""
    store = Store(home)
    run = store.create_run(config, name="straight")
    assert execute(home, run) == "completed"
    return run


@contextlib.contextmanager
def one_thread():
    """As in the workers (OMP_NUM_THREADS=1): float sums over another thread count round
    differently, and a few SGD steps of a tiny model amplify that past any tolerance."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _resume_and_compare(home, run, config, total, fresh=False):
    store = Store(home)
    assert prepare_resume(store, run, fresh=fresh) == run
    with one_thread():
        assert execute(home, run) == "completed"
    assert steps_of(store, run) == list(range(1, total + 1)), "no duplicate or missing steps"
    assert steps_of(store, run, "lr") == list(range(1, total + 1))
    with one_thread():
        straight = _straight(home, config)
    assert_same_model(_last(store, straight)["model"], _last(store, run)["model"])
    a, b = store.metric_series(straight, "loss")[3], store.metric_series(run, "loss")[3]
    assert a == pytest.approx(b, abs=1e-4)
    assert not list((store.run_dir(run).checkpoints).glob(".*tmp*")), "no temp file is left behind"


def _killed_at_step(home, step: int):
    """A slow run (6 steps per epoch, 2 epochs) SIGKILLed once it has logged ``step``:
    (store, run id, config, the worker's exit code, its output)."""
    store, run, config = slow_run(home, epochs=2, train_size="96", step_sleep="0.2")
    proc = start_worker(home, run)
    try:
        wait_for(lambda: store.get_run(run, check_liveness=False).step >= step, 180, f"step {step}")
        assert store.get_run(run).status == "running"
    finally:
        proc.kill()
        out = proc.communicate(timeout=30)[0]
    return store, run, config, proc.returncode, out


def test_sigkill_mid_epoch_keeps_the_checkpoint_and_resumes_exactly(home):
    store, run, config, code, out = _killed_at_step(home, 8)   # inside epoch 2
    assert code == -signal.SIGKILL, out
    crashed = Store(home).get_run(run)  # a fresh reader, at once: the pid is dead
    assert crashed.status == "crashed" and "exited without reporting" in crashed.error
    assert max(steps_of(store, run)) > 6, "rows past the checkpoint exist and must be replaced"
    assert _last(store, run)["step"] == 6, "the epoch-1 checkpoint is intact"
    _resume_and_compare(home, run, config, total=12)
    assert "resumed from step 6" in (store.run_dir(run).log).read_text()


def test_sigkill_before_the_first_checkpoint_restarts_without_duplicate_rows(home):
    store, run, config, _, _ = _killed_at_step(home, 3)
    assert not (store.run_dir(run).last_checkpoint).exists()
    assert steps_of(store, run)[:3] == [1, 2, 3], "the killed attempt's rows are in the store"
    _resume_and_compare(home, run, config, total=12, fresh=True)  # starts again at step 1, each step once


def test_sigkill_between_checkpoint_temp_file_and_rename(home):
    store, run, config = slow_run(home, epochs=3)  # 4 steps per epoch
    proc = start_worker(home, run, PRETEXT_FAULT_KILL_IN_CHECKPOINT="2")  # dies saving the step-8 checkpoint
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == -signal.SIGKILL, out
    ckpt_dir = store.run_dir(run).checkpoints
    assert list(ckpt_dir.glob(".last.pt.tmp*")), "the fault struck after the temp file was written"
    assert Store(home).get_run(run).status == "crashed"
    assert _last(store, run)["step"] == 4, "the previous checkpoint is intact and loads"
    _resume_and_compare(home, run, config, total=12)


def test_frozen_worker_is_crashed_only_when_its_pid_cannot_be_checked(home, monkeypatch):
    """A worker that stops heart-beating (SIGSTOP: its pid still exists) stays ``running`` for
    a reader on its own host (a live pid is never called crashed: it may be waiting out a
    lock); on another host, where the pid cannot be checked, it reads ``crashed`` once
    PRETEXT_HEARTBEAT_TIMEOUT has passed, and not before. Reading writes nothing."""
    store = Store(home)
    run = store.create_run(tiny_config())
    beating = subprocess.Popen(
        [sys.executable, "-c", "import sys, time, os; from engine.store.run_log import RunLog; from engine.store.database import Store;"
         "s = Store(sys.argv[1]); s.update_run(sys.argv[2], status='queued');"
         "lease = s.claim_run(sys.argv[2], os.getpid(), os.uname().nodename);"
         "log = RunLog(sys.argv[1], sys.argv[2], lease); print('up', flush=True); time.sleep(120)", str(home), run],
        cwd=ROOT, env=worker_env(), stdout=subprocess.PIPE, text=True)
    read = [sys.executable, "-c", "import sys; from engine.store.database import Store;"
            "print(Store(sys.argv[1]).get_run(sys.argv[2]).status)", str(home), run]
    reader_env = worker_env(PRETEXT_HEARTBEAT_TIMEOUT="4")
    status = lambda: subprocess.run(read, cwd=ROOT, env=reader_env, capture_output=True,  # noqa: E731
                                    text=True).stdout.strip()
    try:
        assert beating.stdout.readline().strip() == "up"
        time.sleep(5)  # longer than the timeout: the heartbeat (every 2 s) keeps it alive
        assert status() == "running"
        os.kill(beating.pid, signal.SIGSTOP)
        time.sleep(6)
        assert status() == "running", "a live pid on this host is not called crashed"
        store.update_run(run, host="another-host")
        frozen_at = time.monotonic()
        wait_for(lambda: status() == "crashed", 30, "the reader to see crashed", every=0.5)
        assert time.monotonic() - frozen_at < 4 + 10
        monkeypatch.setenv("PRETEXT_HEARTBEAT_TIMEOUT", "4")
        assert "no heartbeat" in Store(home).get_run(run).error
        raw = Store(home).get_run(run, check_liveness=False)
        assert raw.status == "running" and not raw.error, "the reader wrote nothing"
    finally:
        os.kill(beating.pid, signal.SIGCONT)
        beating.kill()
        beating.wait(timeout=30)
