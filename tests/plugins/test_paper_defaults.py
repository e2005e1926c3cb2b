"""Each method's defaults are its paper's (small-data settings live in the benchmark's table
settings, benchmarks/methods.py, and docs/methods.md)."""
from __future__ import annotations

from torch import nn

from engine import registry
from tests.plugins.method_harness import build_method


def _defaults(method_id):
    registry.discover()
    return {p.name: p.default for p in registry.get("method", method_id).schema}


def test_moco_v2_momentum_is_constant_0999_with_shuffling_bn():
    d = _defaults("moco")
    assert (d["base_momentum"], d["momentum_schedule"], d["shuffle_bn"]) == (0.999, "constant", True)


def test_moco_v2_head_has_no_batchnorm():
    m = build_method("moco", {"proj_hidden": 32, "proj_dim": 16, "queue_size": 64})
    assert not any(isinstance(x, nn.BatchNorm1d) for x in m.projector.modules())


def test_byol_base_momentum_is_0996():
    assert _defaults("byol")["base_momentum"] == 0.996


def test_dino_head_is_gelu_without_batchnorm():
    m = build_method("dino", {"out_dim": 32, "head_hidden": 32, "bottleneck": 16, "num_local_crops": 0})
    kinds = {type(x) for x in m.head.mlp.modules()}
    assert nn.GELU in kinds and nn.BatchNorm1d not in kinds and nn.ReLU not in kinds


def test_two_view_crops_start_at_008():
    for method_id in ("simclr", "moco", "byol", "simsiam", "barlow_twins", "vicreg"):
        assert _defaults(method_id)["crop_min"] == 0.08, method_id
    assert _defaults("dino")["crop_min"] == 0.4 and _defaults("swav")["crop_min"] == 0.14


def test_colorization_defaults_to_the_papers_313_bins_and_the_quick_preset_to_100():
    """Zhang et al. 2016: Q = 313 in-gamut bins of a 10-unit ab grid (a in [-90, 100], b in
    [-110, 100]); the quick preset's 100 bins suit 32 px images."""
    from engine.training.presets import QUICK
    from plugins.methods.colorization import Colorization, ab_bins

    q = next(p for p in Colorization.params if p.name == "bins").default
    bins, step = ab_bins(q)
    assert q == 313 and bins.shape == (313, 2) and step == 10.0
    assert len({tuple(b) for b in bins.tolist()}) == 313 and (bins % 10 == 0).all()
    assert bins[:, 0].min() == -90 and bins[:, 0].max() == 100 and bins[:, 1].min() == -110
    assert QUICK.values_for("method", Colorization.params)["bins"] == 100
