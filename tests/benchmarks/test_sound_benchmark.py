"""benchmarks/sound_methods.py runs end to end on a tiny budget: a row per method and init,
and the supervised visual reference, scored on a validation split of train."""
from __future__ import annotations

import torch

from tests.benchmarks.script_loader import load_script


def test_sound_benchmark_prints_method_random_and_supervised_rows(capsys):
    torch.set_num_threads(1)
    code = load_script("sound_methods").main(["--steps", "2", "--train-size", "48", "--methods", "av_sync",
                                              "--seeds", "0,1", "--select", "0.25"])
    assert code == 0
    out = capsys.readouterr().out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    names = {(r[1].strip(), r[2].strip()) for r in rows[1:]}
    assert names == {("av_sync", "random"), ("av_sync", "trained"), ("supervised (visual)", "trained")}
    assert "validation split" in out and "±" in out  # two seeds: mean and spread


def test_sound_benchmark_refuses_unknown_methods_and_parameters_in_one_sentence(capsys):
    script = load_script("sound_methods")
    for argv in (["--methods", "simclr"], ["--method-set", "nonsense=1"], ["--method-set", "fusion=sideways"]):
        assert script.main(["--steps", "1", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
