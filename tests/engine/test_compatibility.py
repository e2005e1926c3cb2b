"""Methods declare what they need of a backbone; an incompatible choice is refused by
build_config with one sentence, before any run row exists (CLI: exit 2)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine import registry
from engine.params import ParamError
from engine.training.config import build_config

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_mae_on_a_convnet_is_refused_in_one_sentence_and_no_run_exists(home):
    out = _cli("train", "--method", "mae", "--backbone", "convnet", "--home", str(home))
    assert out.returncode == 2, out.stderr
    err = out.stderr.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert "mae" in err and "convnet" in err and "vit_tiny" in err, err
    runs = _cli("runs", "--json", "--home", str(home))
    assert runs.returncode == 0 and json.loads(runs.stdout) == [], "no run row was created"


def test_build_config_refuses_what_the_backbone_does_not_declare():
    with pytest.raises(ParamError, match="method mae cannot train backbone resnet18, which lacks masking and tokens"):
        build_config("shapes", "mae", "resnet18")
    assert build_config("shapes", "mae", "vit_tiny")["backbone"]["id"] == "vit_tiny"
    assert build_config("shapes", "simclr", "vit_tiny")["method"]["id"] == "simclr"


def test_multitask_needs_what_each_of_its_tasks_needs():
    assert registry.compatibility_error("multitask", "convnet") is None  # rotation + inpainting
    with pytest.raises(ParamError, match="multitask cannot train backbone convnet"):
        build_config("shapes", "multitask", "convnet", params={"method": {"tasks": "rotation,mae"}})
    config = build_config("shapes", "multitask", "vit_tiny", params={"method": {"tasks": "rotation,mae"}})
    assert config["method"]["params"]["tasks"] == ["rotation", "mae"]


def test_every_backbone_declares_and_every_method_fits_some_backbone():
    backbones = registry.entries("backbone")
    for b in backbones:
        d = b.describe()
        assert d["input_kind"] in ("image", "clip", "audio") and isinstance(d["capabilities"], list)
    for m in registry.entries("method"):
        assert any(registry.compatibility_error(m.id, b.id) is None for b in backbones), m.id
    assert registry.get("method", "mae").describe()["requires"] == ["masking", "tokens"]
    assert registry.get("backbone", "vit_tiny").describe()["capabilities"] == ["masking", "tokens"]
    assert registry.get("backbone", "convnet").describe()["capabilities"] == []


def test_clip_methods_take_clip_backbones_and_clip_data_only():
    assert registry.compatibility_error("shuffle_learn", "r2plus1d") is None
    assert registry.compatibility_error("cvrl", "framewise") is None
    assert "encodes image samples, not clip samples" in registry.compatibility_error("vcop", "convnet")
    with pytest.raises(ParamError, match=r"cannot pre-train on dataset shapes, which holds image samples, not clip"):
        build_config("shapes", "slow_features", "r2plus1d")
    assert build_config("moving_shapes", "rotation", "convnet")["data"]["id"] == "moving_shapes"  # frames


def test_a_plugin_without_the_declarations_is_not_registered():
    class Bare:  # what a backbone that does not derive from BackboneBase looks like
        id, title, summary, citation, params = "bare", "Bare", "s", "c", []

    with pytest.raises(TypeError, match="lacks input_kind, capabilities, stage_names"):
        registry.register_backbone(Bare)
    assert "bare" not in {e.id for e in registry.entries("backbone")}


def test_a_dataset_of_another_sample_kind_is_refused_in_one_sentence(monkeypatch):
    from engine.capabilities import SampleKind

    shapes = registry.get("dataset", "shapes").cls
    assert shapes.sample_kind == SampleKind.IMAGE
    monkeypatch.setattr(shapes, "sample_kind", SampleKind.AUDIO)  # (clips, clips with sound: read as frames)
    with pytest.raises(ParamError, match=r"^method simclr cannot pre-train on dataset shapes, which holds audio "
                                         r"samples, not image samples$"):
        build_config("shapes", "simclr", "convnet")
