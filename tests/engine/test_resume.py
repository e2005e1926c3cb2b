"""Checkpoints and resume: a stopped run continues at the next step with the same optimizer
state, and ends where an uninterrupted run with the same seed ends."""
import time

import torch

from engine.runs.worker import execute
from engine.store.database import Store
from engine.store.run_log import CONTROL_SECONDS
from engine.training import checkpoint
from engine.training.config import build_config

SETS = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8"}


def _config():
    return build_config("shapes", "simclr", "convnet", sets=SETS, train={
        "epochs": 2, "batch_size": 16, "knn_every": 0, "optimizer": "sgd", "lr": 0.05})


class StopAt:
    """A progress hook that asks the run to stop once it has done ``step`` steps."""

    def __init__(self, store, run_id, step):
        self.store, self.run_id, self.step = store, run_id, step
        self.asked = False

    def update(self, step, total, epoch, metrics):
        if step >= self.step and not self.asked:
            self.asked = True
            self.store.set_control(self.run_id, "stop")
            # The worker reads its control flag at most every CONTROL_SECONDS; on a fast
            # machine all 8 steps fit in that window, so wait as a user's click would.
            time.sleep(CONTROL_SECONDS * 1.5)

    def message(self, text):
        pass


def test_stop_then_resume_matches_an_uninterrupted_run(home):
    store = Store(home)
    straight = store.create_run(_config())
    assert execute(home, straight) == "completed"

    run = store.create_run(_config())
    assert execute(home, run, progress=StopAt(store, run, 3)) == "stopped"
    stopped_at = store.get_run(run).step
    assert 3 <= stopped_at < 8
    ckpt = checkpoint.load(store.run_dir(run).last_checkpoint)
    assert ckpt["step"] == stopped_at
    assert ckpt["optimizer"]["state"], "optimizer momentum buffers are saved"

    store.update_run(run, status="queued", control="")
    assert execute(home, run) == "completed"
    assert store.get_run(run).step == 8
    log = (store.run_dir(run).log).read_text()
    assert f"resumed from step {stopped_at}" in log

    steps, *_ = store.metric_series(run, "loss")
    assert steps == list(range(1, 9)), "no duplicate or missing steps after resume"
    a = checkpoint.load(store.run_dir(straight).last_checkpoint)
    b = checkpoint.load(store.run_dir(run).last_checkpoint)
    for key in a["model"]:
        assert torch.allclose(a["model"][key].float(), b["model"][key].float(), atol=1e-5), key
    sa, sb = store.metric_series(straight, "loss")[3], store.metric_series(run, "loss")[3]
    assert sa == sb or all(abs(x - y) < 1e-4 for x, y in zip(sa, sb))


def test_resume_restores_optimizer_and_scheduler_state(home, tmp_path):
    from engine.training.trainer import Trainer

    t1 = Trainer(_config(), tmp_path / "a")
    for _ in range(3):
        t1.train_step(*t1._batch(t1.step))
    path = t1.save_checkpoint()
    t2 = Trainer(_config(), tmp_path / "b")
    t2.load_checkpoint(path)
    assert t2.step == 3
    assert t2.scheduler.last_epoch == t1.scheduler.last_epoch
    s1, s2 = t1.optimizer.state_dict()["state"], t2.optimizer.state_dict()["state"]
    assert s1.keys() == s2.keys()
    for k in s1:
        assert torch.equal(s1[k]["momentum_buffer"], s2[k]["momentum_buffer"])
    assert torch.equal(t1.method.gen.get_state(), t2.method.gen.get_state())
    m1, m2 = t1.train_step(*t1._batch(t1.step)), t2.train_step(*t2._batch(t2.step))
    assert abs(m1["loss"] - m2["loss"]) < 1e-5


def test_checkpoint_is_loaded_without_executing_code(tmp_path):
    """weights_only loading refuses a crafted pickle (no code runs)."""
    import os
    import pickle

    import pytest

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.pt"
    with open(path, "wb") as f:
        pickle.dump({"step": Evil()}, f)
    with pytest.raises(Exception):
        checkpoint.load(path)
    assert not marker.exists()
