"""``main.py eval`` / ``main.py evals`` through engine.cli.main (exit codes, JSON, tables)."""
from __future__ import annotations

import json

import pytest

from engine import registry
from engine.cli.eval_commands import route_sets
from engine.params import ParamError
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config

TINY = {"train_size": "48", "test_size": "24", "image_size": "16", "width": "8", "num_classes": "3"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    registry.discover()
    home = tmp_path_factory.mktemp("clihome")
    cfg = build_config("shapes", "simclr", "convnet", train={"epochs": 1, "batch_size": 16, "device": "cpu",
                                                             "knn_every": 0}, sets=TINY)
    run_id = Store(home).create_run(cfg)
    assert execute(home, run_id) == "completed"
    return home, run_id


def cli(*argv):
    from engine.cli.commands import main

    return main(list(argv))


def test_route_sets_sends_keys_to_protocols_and_data():
    per, data = route_sets({"k": "5", "linear.max_iter": "50", "seed": "3", "data.image_size": "24"},
                           ["knn", "linear", "fewshot"], "shapes")
    assert per == {"knn": {"k": "5"}, "linear": {"max_iter": "50", "seed": "3"}, "fewshot": {"seed": "3"}}
    assert data == {"image_size": "24"}
    with pytest.raises(ParamError, match="unknown parameter 'zzz'"):
        route_sets({"zzz": "1"}, ["knn"], None)
    with pytest.raises(ParamError, match="needs --data"):
        route_sets({"data.image_size": "24"}, ["knn"], None)
    with pytest.raises(ParamError, match="not among --protocol"):
        route_sets({"svm.folds": "4"}, ["knn"], None)


def test_eval_several_protocols_with_a_baseline_prints_json(trained, capsys):
    home, run_id = trained
    rc = cli("eval", run_id, "--protocol", "knn,retrieval", "--set", "k=5", "--baseline", "random",
             "--json", "--home", str(home))
    out = capsys.readouterr()
    assert rc == 0
    rows = json.loads(out.out)
    assert [(r["protocol"], r["run_id"] == run_id) for r in rows] == [
        ("knn", True), ("retrieval", True), ("knn", False), ("retrieval", False)]
    assert rows[0]["params"]["k"] == ["5"] and rows[1]["params"]["k"] == 5
    assert Store(home).get_run(rows[2]["run_id"]).method == "random"
    assert "1000/1000" in out.err  # the progress bar reached its end


def test_eval_bad_input_exits_2_with_one_line(trained, capsys):
    home, run_id = trained
    for argv in (["--protocol", "nope"], ["--set", "bogus=1"], ["--set", "k=x"], ["--validation", "1.5"]):
        assert cli("eval", run_id, *argv, "--home", str(home)) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: ")
    assert cli("eval", "missing-run", "--home", str(home)) == 2


def test_eval_on_a_validation_split_of_train(trained, capsys):
    home, run_id = trained
    assert cli("eval", run_id, "--set", "k=5", "--validation", "0.25", "--json", "--home", str(home)) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["params"]["validation"] == {"fraction": 0.25, "seed": 0}
    assert row["results"]["train_size"] + row["results"]["test_size"] == 48  # all of train, none of test


def test_evals_lists_and_writes_tables(trained, capsys, tmp_path):
    home, run_id = trained
    assert cli("eval", run_id, "--protocol", "knn", "--home", str(home)) == 0
    capsys.readouterr()
    assert cli("evals", "--json", "--home", str(home)) == 0
    rows = json.loads(capsys.readouterr().out)
    assert any(r["run_id"] == run_id and r["protocol"] == "knn" for r in rows)
    assert cli("evals", "--home", str(home)) == 0
    assert "knn@20" in capsys.readouterr().out
    out = tmp_path / "table.tex"
    assert cli("evals", "--table", "tex", "--out", str(out), "--home", str(home)) == 0
    tex = out.read_text()
    assert tex.startswith("\\begin{tabular}") and "knn@20" in tex and "\\bottomrule" in tex
    assert cli("evals", "--table", "md", "--home", str(home)) == 0
    md = capsys.readouterr().out.splitlines()
    assert md[0].startswith("| run |") and md[1].startswith("|---")
    assert cli("evals", "--out", str(out), "--home", str(home)) == 2


def test_protocol_all_leaves_out_the_audio_visual_protocols():
    """An image run has no audio tower: ``all`` must not plan protocols that would refuse it."""
    import argparse

    from engine.cli.eval_commands import _plan

    ids, _, _ = _plan(argparse.Namespace(protocol="all", set=[], data=None))
    assert "knn" in ids and "svm" in ids
    assert "audio_probe" not in ids and "localisation" not in ids
    named, _, _ = _plan(argparse.Namespace(protocol="audio_probe", set=[], data=None))
    assert named == ["audio_probe"]
