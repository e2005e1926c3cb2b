"""Presets lay their values under what the user sets, only where the plugin has the parameter."""
import subprocess
import sys
from pathlib import Path

import pytest

from engine import registry
from engine.params import ParamError
from engine.training.config import build_config
from engine.training.presets import DEFAULT_PRESET, PRESETS, QUICK

ROOT = Path(__file__).resolve().parents[2]
registry.discover()


def test_the_quick_preset_fills_what_each_plugin_has():
    config = build_config("shapes", "simclr", "convnet", preset="quick")
    assert config["data"]["params"]["train_size"] == 2000 and config["data"]["params"]["max_rotation"] == 15.0
    assert config["backbone"]["params"]["width"] == 16 and config["method"]["params"]["gray_p"] == 0.8
    assert (config["train"]["epochs"], config["train"]["batch_size"]) == (30, 64)
    rotation = build_config("shapes", "rotation", "resnet18", preset="quick")  # no gray_p, no width: skipped
    assert "gray_p" not in rotation["method"]["params"] and "width" not in rotation["backbone"]["params"]


def test_explicit_values_win_over_the_preset():
    config = build_config("shapes", "simclr", "convnet", train={"epochs": 2}, sets={"gray_p": "0.3"},
                          params={"backbone": {"width": 8}}, preset="quick")
    assert config["train"]["epochs"] == 2 and config["method"]["params"]["gray_p"] == 0.3
    assert config["backbone"]["params"]["width"] == 8


def test_the_paper_preset_is_the_plugins_defaults():
    assert build_config("shapes", "simclr", "convnet", preset="paper") == build_config("shapes", "simclr", "convnet")


def test_an_unknown_preset_is_one_sentence():
    with pytest.raises(ParamError, match="unknown preset 'fast'"):
        build_config("shapes", "simclr", "convnet", preset="fast")


def test_every_preset_value_is_valid_for_its_plugins():
    for preset in PRESETS.values():
        build_config(preset.plugins["data"], preset.plugins["method"], preset.plugins["backbone"], preset=preset.id)
    assert DEFAULT_PRESET == QUICK.id


def test_the_cli_trains_with_the_default_preset(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "train", "--home", str(tmp_path), "--epochs", "1",
                          "--set", "train_size=64", "--set", "test_size=32", "--set", "knn_every=0"],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    shown = subprocess.run([sys.executable, str(ROOT / "main.py"), "runs", "--home", str(tmp_path), "--json"],
                           capture_output=True, text=True, cwd=ROOT, timeout=60)
    import json

    run = json.loads(shown.stdout)[0]
    assert (run["method"], run["backbone"]) == ("simclr", "convnet")
