"""Guarantee: bad input gets one sentence on stderr and exit code 2, never a traceback (issue
19, found 8 and 9); a closed pipe ends a command quietly; a newline in a run name stays
inside its table row (found 11)."""
import subprocess
import sys

import pytest
from fault_helpers import ROOT, tiny_config, worker_env

from engine.cli.commands import main
from engine.runs.worker import execute
from engine.store.database import Store

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli") / "home"
    store = Store(home)
    run = store.create_run(tiny_config(epochs=1, home=home), name="two\nlines | run")
    assert execute(home, run) == "completed"
    store.add_eval(run, "knn", "shapes", {"k": [20]}, {"top1": {"20": 0.5}})
    store.close()
    return home, run


def _one_sentence(capsys, argv, code=2):
    assert main(argv) == code
    err = capsys.readouterr().err.strip()
    last = err.splitlines()[-1]  # (a progress bar may come before it)
    assert last.startswith("error: ") and err.count("error: ") == 1 and "Traceback" not in err, err
    return last


@pytest.mark.parametrize("sets", [["knn", "k=-5"], ["knn", "k=0"], ["knn", "k=1e20"], ["knn", "k=2000000"],
                                  ["fewshot", "shots=0"], ["fewshot", "shots=-1"]])
def test_nonsense_evaluation_parameters_are_refused_not_stored(trained, capsys, sets):
    home, run = trained
    before = len(Store(home).evals(run))
    err = _one_sentence(capsys, ["eval", run, "--protocol", sets[0], "--set", sets[1], "--device", "cpu",
                                 "--home", str(home)])
    assert sets[1].split("=")[0] in err
    assert len(Store(home).evals(run)) == before, "nothing stored"


def test_output_paths_that_are_directories(trained, tmp_path, capsys):
    home, run = trained
    assert "is a directory" in _one_sentence(capsys, ["export", run, "--out", str(tmp_path), "--home", str(home)])
    assert "is a directory" in _one_sentence(capsys, ["evals", "--table", "csv", "--out", str(tmp_path),
                                                      "--home", str(home)])


def test_homes_that_cannot_be_used(tmp_path, capsys):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    assert "is a file" in _one_sentence(capsys, ["runs", "--home", str(a_file)])
    assert "is a file" in _one_sentence(capsys, ["runs", "--home", str(a_file / "below")])
    assert "nosuchuser" in _one_sentence(capsys, ["runs", "--home", "~nosuchuser_pretext/x"])
    (tmp_path / "h" / "experiments.db").mkdir(parents=True)
    assert "is a directory" in _one_sentence(capsys, ["runs", "--home", str(tmp_path / "h")])


def test_a_bad_heartbeat_timeout_is_one_sentence(trained, capsys, monkeypatch):
    home, _ = trained
    monkeypatch.setenv("PRETEXT_HEARTBEAT_TIMEOUT", "abc")
    assert "PRETEXT_HEARTBEAT_TIMEOUT" in _one_sentence(capsys, ["runs", "--home", str(home)])


def test_a_closed_pipe_ends_quietly(trained):
    home, run = trained
    shell = f"{sys.executable} main.py show {run} --json --home '{home}' | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", shell], cwd=ROOT, env=worker_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "{"
    assert done.stderr == "", done.stderr
    assert done.returncode == 0


def test_a_newline_in_a_run_name_stays_in_its_row(trained, capsys):
    home, run = trained
    assert main(["runs", "--home", str(home)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "two lines" in lines[1]
    assert main(["evals", "--table", "md", "--home", str(home)]) == 0
    rows = capsys.readouterr().out.strip().splitlines()
    assert len(rows) == 3 and rows[2].startswith("| ") and rows[2].endswith(" |"), rows
    assert "two lines \\| run" in rows[2]
