"""benchmarks/methods.py runs end to end on a tiny budget and writes its table."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "methods.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_methods", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_methods_benchmark_writes_a_row_per_method(tmp_path):
    torch.set_num_threads(1)
    out = tmp_path / "table.md"
    bench = _load()
    code = bench.main(["--methods", "rotation,nat,supervised", "--epochs", "1", "--image-size", "16",
                       "--train-size", "64", "--test-size", "24", "--num-classes", "4", "--width", "8",
                       "--batch-size", "32", "--no-linear", "--home", str(tmp_path / "home"), "--out", str(out)])
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
