"""The audio probe (L3-Net's transfer protocol, Arandjelovic & Zisserman 2017) from the CLI's
``eval`` path: an audio-visual run's audio tower, loaded from its checkpoint, is probed on its
own clips' sound and on a labeled sound_folder of two clearly distinct timbres (chance 0.5);
runs without an audio tower and image protocols on sounds are refused in one sentence."""
from __future__ import annotations

import json

import pytest

from engine import registry
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config
from tests.plugins.sound_files import sound_folder

DATA = {"train_size": 24, "test_size": 12, "image_size": 16, "frames": 8, "sample_rate": 8000, "num_classes": 2}
TOWER = {"audio_width": 8, "audio_mels": 16, "audio_hop_ms": 20.0}


def _run(home, method: str, method_params: dict, backbone: str, data: str = "sounding_shapes",
         data_params: dict = DATA) -> str:
    registry.discover()
    cfg = build_config(data, method, backbone, params={"data": data_params, "backbone": {"width": 8},
                                                       "method": method_params},
                       train={"epochs": 1, "batch_size": 8, "device": "cpu", "knn_every": 0})
    run_id = Store(home).create_run(cfg)
    assert execute(home, run_id) == "completed", Store(home).get_run(run_id).error
    return run_id


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("audioprobe")


@pytest.fixture(scope="module")
def avc_run(home):
    return _run(home, "avc", TOWER, "framewise")


def cli(*argv):
    from engine.cli.commands import main

    return main([str(a) for a in argv])


def test_the_probe_reads_a_sound_folder_through_the_cli(home, avc_run, tmp_path, capsys):
    root = sound_folder(tmp_path / "sounds", per_class=16, seconds=0.5, rate=8000)
    code = cli("eval", avc_run, "--protocol", "audio_probe", "--data", "sound_folder", "--set", f"data.root={root}",
               "--set", "data.sample_rate=8000", "--set", "data.seconds=0.5", "--device", "cpu", "--json",
               "--home", home)
    out = capsys.readouterr()
    assert code == 0, out.err
    (row,) = json.loads(out.out)
    res = row["results"]
    assert row["dataset"] == "sound_folder" and row["protocol"] == "audio_probe"
    assert res["test_size"] == 6 and res["train_size"] == 26 and res["classes"] == 2
    assert res["top1"] >= 0.8, res  # chance 0.5: the hum and the whistle are far apart
    assert res["sample_rate"] == 8000 and res["seconds"] == 0.5
    stored = Store(home).evals(avc_run)
    assert any(e["protocol"] == "audio_probe" and e["dataset"] == "sound_folder" for e in stored)


def test_the_probe_reads_the_runs_own_soundtracks(home, avc_run, capsys):
    assert cli("eval", avc_run, "--protocol", "audio_probe", "--device", "cpu", "--home", home) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert "audio_probe on sounding_shapes" in line and "audio top-1" in line


def test_runs_without_an_audio_tower_and_image_protocols_on_sounds_are_refused(home, tmp_path, capsys):
    clip_run = _run(home, "slow_features", {}, "framewise")
    assert cli("eval", clip_run, "--protocol", "audio_probe", "--home", home) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs an audio-visual run" in err[0]


def test_image_protocols_on_a_sound_folder_say_so(home, avc_run, tmp_path, capsys):
    root = sound_folder(tmp_path / "s", per_class=3, seconds=0.3, rate=8000)
    assert cli("eval", avc_run, "--protocol", "knn", "--data", "sound_folder", "--set", f"data.root={root}",
               "--home", home) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "holds sounds, not images" in err[0]
