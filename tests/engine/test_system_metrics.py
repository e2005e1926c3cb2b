"""System metrics (issue 20): CPU %, resident memory (and GPU figures on CUDA) are logged on
the rows the trainer reads anyway, at most once per interval, never on the first read."""
from __future__ import annotations

import torch

from engine.training.system_metrics import SystemSampler
from tests.manual_clock import ManualClock


def test_sampled_once_per_interval_after_priming():
    clock = ManualClock()
    s = SystemSampler(torch.device("cpu"), interval=5.0, clock=clock)
    assert s.sample() == {}  # primes psutil's CPU counter
    clock.now = 2.0
    assert s.sample() == {}
    clock.now = 5.5
    sum(i * i for i in range(200_000))  # some CPU time to measure
    figures = s.sample()
    assert set(figures) == {"cpu_percent", "rss_mb"}
    assert figures["rss_mb"] > 10 and figures["cpu_percent"] >= 0
    assert s.sample() == {}  # not again within the interval


def test_a_training_run_logs_them(tmp_path):
    from engine import registry
    from engine.training.config import build_config
    from engine.training.trainer import Trainer

    registry.discover(None)
    config = build_config("shapes", "rotation", "convnet", train={"epochs": 2, "batch_size": 16, "device": "cpu",
                                                                  "knn_every": 0},
                          sets={"train_size": "64", "test_size": "16", "image_size": "16", "width": "8"})
    seen = []

    class Hooks:
        def on_step(self, step, total, epoch, metrics):
            seen.append(dict(metrics))

        def __getattr__(self, name):
            return lambda *a, **k: None

    trainer = Trainer(config, tmp_path / "run", hooks=Hooks())
    trainer.system.interval = 0.0  # every read after the first (two epoch ends: at least two reads)
    trainer.run()
    assert any("rss_mb" in m for m in seen)
    assert "rss_mb" not in seen[0]  # the first read only primes
