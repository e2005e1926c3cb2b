"""Shared mechanisms of the joint-embedding methods: momentum targets, feature queue, multi-crop."""
import math

import pytest
import torch
from torch import nn

from engine.params import ParamError, resolve
from engine.ssl.feature_queue import FeatureQueue
from engine.ssl.momentum import MomentumPair, cosine_momentum, ema_update, momentum_at
from engine.ssl.multicrop import local_size, multicrop_from, multicrop_params


def test_cosine_momentum_rises_from_base_to_one():
    assert cosine_momentum(0.99, 0.0) == pytest.approx(0.99)
    assert cosine_momentum(0.99, 1.0) == pytest.approx(1.0)
    assert cosine_momentum(0.99, 0.5) == pytest.approx(0.995)
    values = [cosine_momentum(0.9, p / 10) for p in range(11)]
    assert values == sorted(values)
    assert momentum_at(0.9, 0.7, "constant") == 0.9
    with pytest.raises(ValueError):
        momentum_at(0.9, 0.5, "linear")


def test_ema_update_is_the_weighted_average():
    torch.manual_seed(0)
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    before = target.weight.detach().clone()
    ema_update(target, online, 0.75)
    assert torch.allclose(target.weight, 0.75 * before + 0.25 * online.weight.detach())


def test_momentum_pair_targets_are_frozen_and_follow_the_online_network():
    torch.manual_seed(0)
    online = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))
    pair = MomentumPair({"net": online}, base_momentum=0.5, schedule="constant")
    assert all(not p.requires_grad for p in pair.target.parameters())
    assert list(pair.parameters()) == list(pair.target.parameters())  # online not registered twice
    assert "target.net.0.weight" in pair.state_dict() and len(pair.state_dict()) == 4
    with torch.no_grad():
        for p in online.parameters():
            p.add_(1.0)
    gap = (online[0].weight - pair["net"][0].weight).abs().mean().item()
    pair.update(0.3)
    assert pair.momentum == 0.5
    new_gap = (online[0].weight - pair["net"][0].weight).abs().mean().item()
    assert new_gap == pytest.approx(gap / 2, rel=1e-5)


def test_feature_queue_is_fifo_and_wraps():
    q = FeatureQueue(5, 2, random_init=False)
    assert q.valid().shape == (0, 2) and not q.full
    q.push(torch.tensor([[1.0, 0], [2, 0], [3, 0]]))
    assert q.valid()[:, 0].tolist() == [1, 2, 3]
    q.push(torch.tensor([[4.0, 0], [5, 0], [6, 0]]))
    assert q.full and sorted(q.items[:, 0].tolist()) == [2, 3, 4, 5, 6]
    q.push(torch.arange(14.0).view(7, 2))  # more than it holds: the newest 5 stay
    assert sorted(q.items[:, 0].tolist()) == [4, 6, 8, 10, 12]
    assert set(q.state_dict()) == {"items", "ptr", "count", "tags"}
    assert q.tags.tolist() == [-1] * 5  # pushed without tags
    q.push(torch.ones(2, 2), torch.tensor([7, 8]))
    assert sorted(q.tags.tolist()) == [-1, -1, -1, 7, 8]
    old = {k: v for k, v in q.state_dict().items() if k != "tags"}  # a checkpoint from before tags
    fresh = FeatureQueue(5, 2, random_init=False)
    fresh.load_state_dict(old)
    assert fresh.tags.tolist() == [-1] * 5 and torch.equal(fresh.items, q.items)
    r = FeatureQueue(8, 3)
    assert torch.allclose(r.items.norm(dim=1), torch.ones(8))


def test_multicrop_gives_two_global_and_v_local_views():
    p = resolve(multicrop_params(num_local=3), {})
    p.update(crop_min=0.3)
    crops = multicrop_from(p, 32)
    x = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8)
    views = crops(x, torch.Generator().manual_seed(0))
    assert [tuple(v.shape) for v in views] == [(5, 3, 32, 32)] * 2 + [(5, 3, 16, 16)] * 3
    assert crops.global_view.crop_min == 0.3 and crops.local_view.crop_max == pytest.approx(0.14)
    raw = crops(x, torch.Generator().manual_seed(0), norm=False)
    assert all(0 <= v.min() and v.max() <= 1 for v in raw)
    assert local_size(32, 0.43) == 12 and local_size(224, 96 / 224, multiple=16) == 96
    assert local_size(32, 0.1) == 8 and local_size(32, 0.1, multiple=16) == 16  # never pooled to nothing
    with pytest.raises(ParamError):
        multicrop_from({**p, "local_crop_min": 0.5, "local_crop_max": 0.2}, 32)


def test_cosine_schedule_formula():
    for prog in (0.1, 0.33, 0.8):
        assert cosine_momentum(0.996, prog) == pytest.approx(1 - 0.004 * (math.cos(math.pi * prog) + 1) / 2)
