"""Speed options change how a step runs, not what it computes."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.training.config import build_config
from engine.training.model_setup import GlobalBatchNorm, convert_global_batchnorm
from engine.training.trainer import Trainer

SETS = {"train_size": "64", "test_size": "16", "image_size": "16", "width": "8", "knn_every": "0"}


def _losses(tmp_path, name, **train):
    cfg = build_config("shapes", "simclr", "convnet", sets=SETS,
                       train={"epochs": 1, "batch_size": 16, "device": "cpu", **train})
    trainer = Trainer(cfg, tmp_path / name, tmp_path / "cache")
    losses = []
    for _ in range(3):
        losses.append(trainer.train_step(*trainer._batch(trainer.step))["loss"])
    return trainer, losses


@pytest.mark.parametrize("precision, rel", [("fp32", 1e-4), ("bf16", 2e-2)])  # bf16: kernels round differently
def test_channels_last_trains_the_same_model(tmp_path, precision, rel):
    _, plain = _losses(tmp_path, "plain", precision=precision)
    trainer, fast = _losses(tmp_path, "fast", precision=precision, channels_last=True, gpu_data_fraction=0.0)
    conv = trainer.method.backbone.stem[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert trainer.data.placement == "cpu"  # the GPU-only placement options do nothing on the CPU
    assert [float(v) for v in fast] == pytest.approx([float(v) for v in plain], rel=rel)


def test_global_batchnorm_is_batchnorm_in_one_process():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4 * 36, 5), nn.BatchNorm1d(5))
    x = torch.randn(8, 3, 8, 8)
    expected = net(x)
    keys, weight = set(net.state_dict()), net[1].weight
    convert_global_batchnorm(net)
    assert isinstance(net[1], GlobalBatchNorm) and isinstance(net[4], GlobalBatchNorm)
    assert net[1].weight is weight  # shared, so an optimizer built before still holds it
    assert set(net.state_dict()) == keys  # checkpoints stay interchangeable
    torch.testing.assert_close(net(x), expected)
