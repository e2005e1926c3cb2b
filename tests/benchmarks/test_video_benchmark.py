"""benchmarks/video_methods.py runs end to end on a tiny budget and writes its table."""
from __future__ import annotations

import pytest
import torch

from tests.benchmarks.script_loader import load_script


def test_video_benchmark_writes_a_row_per_method_and_random_init(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "table.md"
    code = load_script("video_methods").main([
        "--methods", "slow_features", "--seeds", "0", "--epochs", "1", "--image-size", "16", "--train-size", "32",
        "--test-size", "16", "--width", "8", "--batch-size", "16", "--home", str(tmp_path / "home"), "--out", str(out)])
    assert code == 0
    rows = {line.split("|")[1].strip(): line.split("|") for line in out.read_text().splitlines()
            if line.startswith("| ") and "---" not in line and "method" not in line}
    assert set(rows) == {"random init", "slow_features"}
    assert 0.0 <= float(rows["slow_features"][2]) <= 100.0 and float(rows["slow_features"][4]) > 0


def test_video_benchmark_selects_on_a_validation_split_with_a_framewise_backbone(tmp_path):
    torch.set_num_threads(1)
    home = tmp_path / "home"
    code = load_script("video_methods").main([
        "--methods", "supervised_clip", "--seeds", "0", "--epochs", "1", "--image-size", "16", "--train-size", "32",
        "--test-size", "16", "--width", "8", "--batch-size", "16", "--backbone", "framewise", "--select", "0.25",
        "--data-set", "background=plain", "--home", str(home)])
    assert code == 0
    from engine.store.database import Store

    store = Store(home)
    evals = store.evals()
    store.close()
    assert evals and all(e["params"]["validation"] == {"fraction": 0.25, "seed": 0} for e in evals)
    assert {e["params"]["data"]["params"]["background"] for e in evals} == {"plain"}


def test_video_benchmark_passes_backbone_settings_and_refuses_unknown_ones(tmp_path, capsys):
    torch.set_num_threads(1)
    home = tmp_path / "home"
    script = load_script("video_methods")
    tiny = ["--methods", "slow_features", "--seeds", "0", "--epochs", "1", "--image-size", "16", "--train-size", "32",
            "--test-size", "16", "--width", "8", "--batch-size", "16", "--backbone", "framewise", "--home", str(home)]
    assert script.main([*tiny, "--backbone-set", "frames=4"]) == 2
    assert "no parameter 'frames'" in capsys.readouterr().err
    assert script.main([*tiny, "--backbone-set", "pooling=sideways"]) == 2
    assert "pooling" in capsys.readouterr().err
    with pytest.raises(SystemExit) as malformed:  # argparse's one line
        script.main([*tiny, "--backbone-set", "pooling"])
    assert malformed.value.code == 2 and "expected KEY=VALUE, got 'pooling'" in capsys.readouterr().err
    assert script.main([*tiny, "--backbone-set", "pooling=concat"]) == 0
    from engine.store.database import Store

    store = Store(home)
    runs = store.list_runs()
    store.close()
    assert runs and {r.config["backbone"]["params"]["pooling"] for r in runs} == {"concat"}
