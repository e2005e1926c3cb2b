"""The training loop reads device values once per sync interval, not once per step, yet every
step still gets its own row of host numbers; a non-finite loss still ends the run naming its
step, and no checkpoint is written after it."""
from __future__ import annotations

import math
import sys

import pytest
import torch

from engine.training import step_metrics
from engine.training.config import build_config
from engine.training.hooks import NullHooks
from engine.training.trainer import Trainer, TrainingError

SETS = {"train_size": "64", "test_size": "16", "image_size": "16", "width": "8"}
READS = ("item", "tolist", "__bool__", "__float__", "cpu", "numpy")  # what waits for the device


class Recorder(NullHooks):
    def __init__(self, stop_after: int | None = None):
        self.rows: list[tuple[int, dict]] = []
        self.stop_after, self.steps_seen = stop_after, 0

    def on_step(self, step, total, epoch, metrics):
        self.rows.append((step, dict(metrics)))

    def control(self):
        self.steps_seen += 1  # read once before each step
        return "stop" if self.stop_after is not None and self.steps_seen > self.stop_after else ""


def _trainer(tmp_path, hooks, epochs=3) -> Trainer:
    cfg = build_config("shapes", "simclr", "convnet", sets=SETS, train={
        "epochs": epochs, "batch_size": 16, "device": "cpu", "knn_every": 0, "precision": "fp32"})
    trainer = Trainer(cfg, tmp_path / "run", tmp_path / "cache", hooks)
    trainer.pending.sync_seconds = 1e9  # sync only where the loop must: epoch ends, checkpoints
    return trainer


def _count_reads(monkeypatch) -> list[str]:
    """Patch the tensor methods that read a value on the host; record each call made from
    engine/training (the trainer's own reads, not the plugins')."""
    calls: list[str] = []
    for name in READS:
        original = getattr(torch.Tensor, name)

        def spy(self, *a, _original=original, _name=name, **k):
            caller = sys._getframe(1).f_code.co_filename.replace("\\", "/")
            # prefetch.py gathers batches from the host-side record cache on its own thread:
            # host memory only, never a wait on the device
            if "/engine/training/" in caller and not caller.endswith("/prefetch.py"):
                calls.append(f"{_name} in {caller.rsplit('/', 1)[-1]}")
            return _original(self, *a, **k)

        monkeypatch.setattr(torch.Tensor, name, spy)
    return calls


def test_twelve_steps_read_the_device_once_per_epoch_and_checkpoint(tmp_path, monkeypatch):
    hooks = Recorder()
    trainer = _trainer(tmp_path, hooks)
    assert trainer.total_steps == 12 and trainer.steps_per_epoch == 4
    drains = []
    real_to_host = step_metrics.to_host
    monkeypatch.setattr(step_metrics, "to_host", lambda values: drains.append(len(values)) or real_to_host(values))
    calls = _count_reads(monkeypatch)
    trainer.run()
    per_step = len({k for k in ("loss", "contrastive_acc")})  # the device tensors SimCLR returns each step
    assert [n for n in drains if n] == [4 * per_step] * 3, "one copy of the pending metrics per epoch end, not one per step"
    # 3 stacked metric reads + 3 weight checks (one per epoch checkpoint), against >= 24 before
    assert sorted(calls) == ["__bool__ in trainer.py"] * 3 + ["tolist in step_metrics.py"] * 3, calls
    assert [step for step, _ in hooks.rows] == list(range(1, 13)), "every step still has its row"
    for _, metrics in hooks.rows:
        assert all(type(v) is float for v in metrics.values()), metrics
        assert {"loss", "contrastive_acc", "lr", "epoch", "img_per_s"} <= metrics.keys()
        assert math.isfinite(metrics["loss"]) and metrics["img_per_s"] > 0


def test_a_sync_is_due_after_its_interval_or_a_full_buffer():
    pending = step_metrics.PendingSteps(sync_seconds=1e9, max_pending=3)
    for step in (1, 2):
        pending.add(step, {"loss": torch.tensor(float(step))})
    assert not pending.due()
    pending.add(3, {"loss": torch.tensor(3.0), "lr": 0.1})
    assert pending.due()
    rows = pending.drain()
    assert [(r.step, r.metrics["loss"]) for r in rows] == [(1, 1.0), (2, 2.0), (3, 3.0)]
    assert rows[2].metrics["lr"] == 0.1 and len(pending) == 0 and not pending.due()
    pending.sync_seconds = 0.0
    pending.add(4, {"loss": torch.tensor(4.0)})
    assert pending.due()


def test_a_stop_request_reports_the_pending_steps_before_its_checkpoint(tmp_path):
    hooks = Recorder(stop_after=2)
    trainer = _trainer(tmp_path, hooks)
    outcome = trainer.run()
    assert outcome.status == "stopped" and outcome.step == 2
    assert [step for step, _ in hooks.rows] == [1, 2]
    assert outcome.metrics["loss"] == hooks.rows[-1][1]["loss"]
    assert torch.load(trainer.run_dir.last_checkpoint, weights_only=True)["step"] == 2


def test_a_nan_loss_between_syncs_fails_naming_its_step_and_writes_no_checkpoint(tmp_path):
    hooks = Recorder()
    trainer = _trainer(tmp_path, hooks)
    real_step = trainer._step

    def diverging(x, y):  # from step 2 on the loss is NaN (and so are the gradients)
        out = real_step(x, y)
        if trainer.step + 1 >= 2:
            out["loss"] = out["loss"] * float("nan")
        return out

    trainer._step = diverging
    with pytest.raises(TrainingError, match=r"the loss became nan at step 2; lower the learning rate"):
        trainer.run()
    assert trainer.step == 4, "found at the epoch end's sync, at most one interval late"
    assert [step for step, _ in hooks.rows] == [1], "no row from the non-finite step or after it"
    assert not trainer.run_dir.last_checkpoint.exists(), "the epoch-end checkpoint of NaN weights is not written"


def test_a_checkpoint_of_non_finite_weights_is_refused(tmp_path):
    trainer = _trainer(tmp_path, Recorder())
    with torch.no_grad():
        next(trainer.method.parameters())[0].fill_(float("inf"))
    with pytest.raises(TrainingError, match="weights became non-finite"):
        trainer.save_checkpoint()
    assert not trainer.run_dir.last_checkpoint.exists()
