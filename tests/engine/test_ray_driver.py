"""The Ray driver's side of a run (RemoteRun.pump), without a cluster: what the task sends is
written with the run's lease; a checkpoint that cannot be stored (a full disk) ends the task
and fails the run in one sentence instead of killing the scheduler."""
import errno
import os
import queue
import socket

from engine.runs.ray_executor import RemoteRun
from engine.store.database import Store
from tests.app.conftest import tiny_config


class FakeRay:
    def __init__(self):
        self.cancelled = []

    def wait(self, refs, timeout=0):
        return [], refs  # the task is still running

    def cancel(self, ref, force=False):
        self.cancelled.append(ref)


def _remote(home):
    store = Store(home)
    run_id = store.create_run(tiny_config(), "remote")
    lease = store.claim_run(run_id, os.getpid(), socket.gethostname())
    return RemoteRun(home, run_id, lease, "ref", queue.Queue(), queue.Queue(), store=store), run_id


def test_checkpoints_and_rows_from_the_task_land_in_the_run(home, registry):
    remote, run_id = _remote(home)
    remote.events.put(("from_step", 0))
    remote.events.put(("metrics", ([(1, 0.5, 1.0, "loss", 2.0)], 1)))
    remote.events.put(("checkpoint", b"weights"))
    assert remote.pump(FakeRay()) is False  # still running
    with Store(home) as store:
        assert store.run_dir(run_id).last_checkpoint.read_bytes() == b"weights"
        assert store.metric_series(run_id, "loss")[0] == [1] and store.get_run(run_id).step == 1


def test_a_checkpoint_the_disk_cannot_hold_fails_the_run_not_the_scheduler(home, registry, monkeypatch):
    remote, run_id = _remote(home)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "last.pt")

    monkeypatch.setattr("engine.runs.ray_executor.save_bytes_atomic", full)
    remote.events.put(("checkpoint", b"weights"))
    ray = FakeRay()
    assert remote.pump(ray) is True and ray.cancelled == ["ref"]
    with Store(home) as store:
        run = store.get_run(run_id)
    assert run.status == "failed" and run.error.startswith("the disk is full") and "resume" in run.error
