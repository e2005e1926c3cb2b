"""The online linear probe: logged when asked, on labeled batches or the labeled train split,
and it never changes the backbone it reads."""
from __future__ import annotations

import torch

from engine import registry
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config
from engine.training.online_probe import OnlineProbe

TINY = {"train_size": "64", "test_size": "24", "image_size": "16", "width": "8", "num_classes": "2"}


def run(home, method, probe, epochs=2):
    registry.discover()
    cfg = build_config("shapes", method, "convnet", sets=TINY,
                       train={"epochs": epochs, "batch_size": 16, "device": "cpu", "knn_every": 0, "online_probe": probe})
    run_id = Store(home).create_run(cfg)
    assert execute(home, run_id) == "completed"
    return Store(home).metric_series(run_id, "online_linear_acc")


def test_probe_on_labeled_pretraining_batches_logs_every_step(tmp_path):
    steps, _, _, values = run(tmp_path, "supervised", True)
    assert steps == list(range(1, 9))  # 64 images / 16 per step x 2 epochs
    assert all(0.0 <= v <= 1.0 for v in values)


def test_probe_on_unlabeled_pretraining_uses_the_labeled_split_every_n_steps(tmp_path):
    steps, *_ = run(tmp_path, "simclr", True, epochs=5)  # 20 steps: logged at 10 and 20
    assert steps == [10, 20]


def test_probe_is_off_by_default(tmp_path):
    assert run(tmp_path, "simclr", False, epochs=1)[0] == []


def test_probe_step_leaves_the_method_untouched(tmp_path):
    """No gradient reaches the backbone and its BatchNorm statistics do not move."""
    from engine.training.trainer import Trainer

    registry.discover()
    cfg = build_config("shapes", "simclr", "convnet", sets=TINY,
                       train={"batch_size": 16, "device": "cpu", "online_probe": True})
    trainer = Trainer(cfg, tmp_path / "run", tmp_path / "cache")
    before = {k: v.clone() for k, v in trainer.method.state_dict().items()}
    x, _ = trainer.data.batch(0)  # 16 images, streamed from the cache
    assert trainer.online_probe.update(10, x, None)["online_linear_acc"] >= 0.0
    assert trainer.method.training  # the train/eval mode is restored
    assert all(torch.equal(before[k], v) for k, v in trainer.method.state_dict().items())
    assert all(p.grad is None for p in trainer.method.parameters())


def test_probe_learns_separable_features():
    torch.manual_seed(0)
    probe = OnlineProbe(lambda x: x.float(), 12, 2, "cpu", lr=0.5)
    g = torch.Generator().manual_seed(1)
    accs = []
    for step in range(1, 61):
        y = torch.randint(0, 2, (32,), generator=g)
        x = (torch.randn(32, 12, generator=g) + 3 * y.view(-1, 1)).clamp(0, 255)
        accs.append(probe.update(step, x, y)["online_linear_acc"])
    assert sum(accs[-10:]) / 10 > 0.95
