"""benchmarks/methods.py runs end to end on a tiny budget and writes its table."""
from __future__ import annotations

import pytest
import torch

from tests.benchmarks.script_loader import load_script


def _load():
    return load_script("methods")


def test_methods_benchmark_writes_a_row_per_method(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "table.md"
    bench = _load()
    code = bench.main(["--methods", "rotation,nat,supervised", "--epochs", "1", "--image-size", "16",
                       "--train-size", "64", "--test-size", "24", "--num-classes", "4", "--width", "8",
                       "--batch-size", "32", "--no-linear", "--method-set", "gray_p=0.7",
                       "--method-set", "nat.reassign_every=2", "--home", str(tmp_path / "home"), "--out", str(out)])
    assert code == 0
    lines = out.read_text().splitlines()
    rows = {line.split("|")[1].strip(): line for line in lines if line.startswith("| ") and "---" not in line}
    assert {"random init", "rotation", "supervised"} <= set(rows)
    assert "rotation_acc" in rows["rotation"] and "train_acc" in rows["supervised"]
    knn = float(rows["rotation"].split("|")[3])
    assert 0.0 <= knn <= 1.0
    # nat reads Sobel edges: its row carries the random init read through that input too
    assert 0.0 <= float(rows["nat"].split("|")[4]) <= 1.0
    assert rows["rotation"].split("|")[4].strip() == "-"
    # --method-set reaches the methods whose schema has the key, and only those
    assert "gray_p=0.7 for every method that has it" in lines[0] and "max_rotation=15" in lines[0]
    assert "gray_p=0.8" not in lines[0] and "moco." not in lines[0]  # overridden; not chosen
    from engine.store.database import Store
    configs = {r.name: Store(tmp_path / "home").get_run(r.id).config["method"]
               for r in Store(tmp_path / "home").list_runs()}
    assert configs["bench nat"]["params"]["gray_p"] == 0.7
    assert "gray_p" not in configs["bench rotation"]["params"]
    assert configs["bench nat"]["params"]["reassign_every"] == 2 and "nat.reassign_every=2." in lines[0]


@pytest.mark.parametrize("assignment, words", [("no_such_key=1", "no chosen method has this parameter"),
                                               ("gray_p=7", "gray_p"),
                                               ("rotation.gray_p=0.5", "no chosen method has this parameter")])
def test_methods_benchmark_refuses_a_bad_method_setting_before_training(tmp_path, capsys, assignment, words):
    with pytest.raises(SystemExit) as exit_:
        _load().main(["--methods", "rotation,nat", "--method-set", assignment, "--home", str(tmp_path / "home")])
    assert exit_.value.code == 2 and words in capsys.readouterr().err
    assert not (tmp_path / "home" / "runs").exists()


def test_methods_benchmark_defaults_are_the_documented_tables():
    """No arguments: docs/methods.md's budget and settings; the user's assignments win;
    --recipe-defaults leaves every method with its recipe's own defaults."""
    bench = _load()
    bench.registry.discover()
    args = bench.parse_args([])
    assert (args.epochs, args.train_size, args.test_size, args.width, args.batch_size) == (30, 2000, 2000, 16, 64)
    assert bench.settings(args)[0]["max_rotation"] == 15
    assert bench.method_settings(args, "dino") == {"gray_p": "0.8", "teacher_temp": "0.04", "crop_min": "0.2"}
    assert bench.method_settings(args, "rotation") == {}
    mine = bench.parse_args(["--method-set", "gray_p=0.5", "--data-set", "max_rotation=30"])
    assert bench.method_settings(mine, "moco") == {"gray_p": "0.5", "queue_size": "512", "crop_min": "0.2",
                                                   "base_momentum": "0.99", "momentum_schedule": "cosine"}
    assert bench.settings(mine)[0]["max_rotation"] == 30  # values stay text until the schema reads them
    plain = bench.parse_args(["--recipe-defaults"])
    assert bench.method_settings(plain, "dino") == {} and plain.data_set == []
    bench.check_method_settings(args, ["rotation"])  # the table's own keys need no chosen method


def test_choosing_settings_scores_on_a_validation_split_and_never_reads_test(tmp_path, monkeypatch):
    """--select: the kNN bank is train minus a stratified, seeded validation split and the
    queries are that split; the test split is not loaded at all."""
    torch.set_num_threads(1)
    bench = _load()
    bench.registry.discover(tmp_path / "home")
    read = []
    real = bench.registry.create_dataset

    def spy(*a, **k):
        ds = real(*a, **k)
        split = ds.split
        ds.split = lambda name: read.append(name) or split(name)
        return ds

    monkeypatch.setattr(bench.registry, "create_dataset", spy)
    out = tmp_path / "table.md"
    code = bench.main(["--methods", "rotation", "--epochs", "1", "--image-size", "16", "--train-size", "64",
                       "--test-size", "24", "--num-classes", "4", "--width", "8", "--batch-size", "32",
                       "--no-linear", "--select", "--home", str(tmp_path / "home"), "--out", str(out)])
    assert code == 0 and "test" not in read and "train" in read
    assert "validation split (0.2 of train" in out.read_text().splitlines()[0]
    bx, _, qx, qy = bench.labeled(tmp_path / "home", bench.settings(bench.parse_args(
        ["--image-size", "16", "--train-size", "64", "--test-size", "24", "--num-classes", "4"]))[0], 0.25, 0)
    assert len(bx) + len(qx) == 64 and sorted(torch.bincount(qy).tolist()) == [4, 4, 4, 4]
