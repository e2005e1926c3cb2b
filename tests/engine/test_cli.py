"""The headless CLI: a real train/show/export round trip, and one clear line + exit 2 for
bad input."""
import csv
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from engine.cli.commands import main
from engine.store.database import Store

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--set", "train_size=64", "--set", "test_size=32", "--set", "image_size=16", "--set", "width=8",
        "--batch-size", "16"]


def _cli(*args, timeout=300):
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_train_show_export_round_trip(home, tmp_path):
    out = _cli("train", "--epochs", "2", "--home", str(home), "--name", "tiny", *TINY)
    assert out.returncode == 0, out.stderr
    assert "step 8/8" in out.stderr  # the progress bar
    run_id = out.stdout.split()[0]
    show = json.loads(_cli("show", run_id, "--json", "--home", str(home)).stdout)
    assert show["status"] == "completed" and show["name"] == "tiny"
    for key in ("loss", "contrastive_acc", "knn_acc", "lr", "img_per_s", "epoch"):
        assert key in show["latest"], key
    assert any(a["kind"] == "backbone" for a in show["artifacts"])
    runs = json.loads(_cli("runs", "--json", "--home", str(home)).stdout)
    assert [r["id"] for r in runs] == [run_id]

    csv_path, json_path = tmp_path / "m.csv", tmp_path / "m.json"
    assert main(["export", run_id, "--out", str(csv_path), "--home", str(home)]) == 0
    rows = list(csv.DictReader(open(csv_path)))
    assert [int(r["step"]) for r in rows] == list(range(0, 9)) and "loss" in rows[1]
    assert rows[0]["knn_random_init"] and not rows[0]["loss"]  # step 0: the references, before training
    header = next(csv.reader(open(csv_path)))
    assert header.count("epoch") == 1 and header[:4] == ["step", "epoch", "time", "elapsed_s"]
    assert datetime.fromisoformat(rows[1]["time"]).tzinfo is not None and float(rows[0]["elapsed_s"]) == 0
    assert main(["export", run_id, "--out", str(json_path), "--home", str(home)]) == 0
    assert len(json.loads(json_path.read_text())["metrics"]["loss"]) == 8


@pytest.mark.parametrize("args, fragment", [
    (["train", "--set", "bogus=1"], "unknown parameter 'bogus'"),
    (["train", "--set", "temperature=hot"], "temperature must be a number"),
    (["train", "--set", "lr=-3"], "lr must be at least"),
    (["train", "--set", "epochs=0"], "epochs must be at least 1"),
    (["train", "--method", "nope"], "unknown method 'nope'"),
    (["train", "--data", "folder", "--set", "root=/definitely/missing"], "does not exist"),
    (["train", "--epochs", "many"], "invalid int value"),
    (["show", "no-such-run"], "no run 'no-such-run'"),
    (["resume", "no-such-run"], "no run 'no-such-run'"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line_and_exit_2(args, fragment, home, capsys):
    assert main([*args, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and len(err.splitlines()) == 1, err
    assert Store(home).list_runs() == [], "no half-created run"


def test_plugins_json_lists_schemas(home, capsys):
    assert main(["plugins", "--json", "--home", str(home)]) == 0
    data = json.loads(capsys.readouterr().out)
    simclr = next(m for m in data["method"] if m["id"] == "simclr")
    temp = next(p for p in simclr["params"] if p["name"] == "temperature")
    assert temp["kind"] == "float" and temp["default"] == 0.5 and temp["low"] is not None
    assert simclr["citation"] and simclr["summary"]


def test_detached_worker_obeys_stop_and_sigterm(home):
    """--detach starts a worker process; `stop` and SIGTERM both checkpoint and end `stopped`."""
    ids = []
    for _ in range(2):
        out = _cli("train", "--detach", "--epochs", "500", "--home", str(home), *TINY)
        assert out.returncode == 0, out.stderr
        ids.append(out.stdout.strip())
    store = Store(home)

    def wait_for(run_id, pred, timeout=120):
        end = time.time() + timeout
        while time.time() < end:
            run = store.get_run(run_id)
            if pred(run):
                return run
            time.sleep(0.2)
        raise AssertionError(f"timed out: {store.get_run(run_id)}")

    for run_id in ids:
        wait_for(run_id, lambda r: r.status == "running" and (r.step or 0) > 0)
    assert _cli("stop", ids[0], "--home", str(home)).returncode == 0
    os.kill(store.get_run(ids[1]).pid, signal.SIGTERM)
    for run_id in ids:
        run = wait_for(run_id, lambda r: r.status not in ("running", "queued"))
        assert run.status == "stopped", run
        assert (store.run_dir(run_id).last_checkpoint).exists()
