"""Guarantees 2 and 3: divergence, out of memory and a full disk end the run as ``failed``
with one readable sentence and a hint, keep the last good checkpoint and the store intact,
leave no process behind, and the run resumes once the cause is gone."""
import errno
import os
import sqlite3

import pytest
from fault_helpers import install_fault_plugin, steps_of, tiny_config

from engine.cli.commands import main
from engine.runs.process_control import prepare_resume, spawn_worker
from engine.runs.worker import execute
from engine.store.database import Store
from engine.store.liveness import pid_alive as _pid_alive
from engine.training import checkpoint

pytestmark = pytest.mark.faults
TINY_CLI = ["--set", "train_size=64", "--set", "test_size=32", "--set", "image_size=16", "--set", "width=8",
            "--batch-size", "16", "--device", "cpu", "--set", "knn_every=0"]


def _checkpoint_step(store, run_id) -> int:
    return checkpoint.load(store.run_dir(run_id).last_checkpoint)["step"]


def _store_is_sound(home) -> None:
    conn = sqlite3.connect(home / "experiments.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@pytest.mark.parametrize("bad", ["nan", "inf"])
def test_non_finite_loss_fails_with_step_and_hint_and_keeps_the_checkpoint(home, capsys, bad):
    install_fault_plugin(home)
    code = main(["train", "--method", "fault_nan", "--epochs", "3", "--set", "nan_step=6", "--set",
                 f"bad_value={bad}", *TINY_CLI, "--home", str(home)])
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: the loss became") and "at step 6" in err[-1], err
    run = Store(home).list_runs()[0]
    assert run.status == "failed"
    assert "step 6" in run.error and "learning rate" in run.error and "warm-up" in run.error
    assert bad in run.error.lower()
    assert _checkpoint_step(Store(home), run.id) == 4, "the last good (epoch-1) checkpoint survives"
    assert steps_of(Store(home), run.id) == [1, 2, 3, 4, 5], "no row from the non-finite step"


def test_out_of_memory_fails_with_a_batch_size_hint_and_no_process_left(home):
    install_fault_plugin(home)
    store = Store(home)
    run = store.create_run(tiny_config("fault_oom", sets={"oom_step": "2"}, home=home))
    proc = spawn_worker(home, run)
    try:
        assert proc.wait(timeout=300) == 1, "the worker exits by itself"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    row = Store(home).get_run(run)
    assert row.status == "failed"
    assert "out of GPU memory" in row.error and "lower the batch size" in row.error
    assert not _pid_alive(proc.pid)


class _FullDisk:
    """Stands in for ``os`` in engine.training.checkpoint: the ``fail_at``-th fsync finds the disk full."""

    def __init__(self, fail_at: int):
        self.fail_at, self.calls = fail_at, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def fsync(self, fd):
        self.calls += 1
        if self.calls >= self.fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return os.fsync(fd)


def test_disk_full_while_writing_a_checkpoint(home, monkeypatch):
    store = Store(home)
    config = tiny_config(epochs=3, home=home)
    run = store.create_run(config)
    monkeypatch.setattr(checkpoint, "os", _FullDisk(fail_at=2))  # the step-8 checkpoint
    assert execute(home, run) == "failed"
    row = store.get_run(run)
    assert row.error.startswith("the disk is full") and "resume" in row.error
    assert _checkpoint_step(store, run) == 4, "the previous checkpoint is intact"
    assert not list((store.run_dir(run).checkpoints).glob(".*tmp*")), "the half-written file is removed"
    _store_is_sound(home)

    monkeypatch.setattr(checkpoint, "os", os)  # space was freed
    prepare_resume(store, run)
    assert execute(home, run) == "completed"
    assert steps_of(store, run) == list(range(1, 13))


def test_disk_full_while_writing_the_store(home, monkeypatch):
    store = Store(home)
    run = store.create_run(tiny_config(epochs=3, home=home))
    real = Store.log_metrics
    calls = []

    def log_metrics(self, run_id, rows, **kwargs):
        calls.append(len(rows))
        if len(calls) > 3 and rows:
            raise sqlite3.OperationalError("database or disk is full")
        return real(self, run_id, rows, **kwargs)

    monkeypatch.setattr(Store, "log_metrics", log_metrics)
    assert execute(home, run) == "failed"
    monkeypatch.setattr(Store, "log_metrics", real)
    row = Store(home).get_run(run)
    assert row.status == "failed", "the end is recorded even though the metric rows could not be"
    assert row.error.startswith("the disk is full") and "experiment store" in row.error
    _store_is_sound(home)
    saved = steps_of(store, run)
    assert saved == list(range(1, len(saved) + 1)), "the rows that were written are whole"
    prepare_resume(store, run)
    assert execute(home, run) == "completed"
    assert steps_of(store, run) == list(range(1, 13))
