"""Guarantee: a full disk during any write (issue 19, found 7) gives the disk-full sentence
and leaves no partial file. A real full disk makes torch.save raise RuntimeError ("enforce
fail at inline_container.cc ... unexpected pos"), not OSError."""
import errno
import os

import pytest
from fault_helpers import tiny_config

from engine.cli.commands import main
from engine.runs.worker import execute
from engine.store import atomic_file
from engine.store.database import Store
from engine.training import checkpoint

pytestmark = pytest.mark.faults


def test_torch_running_out_of_space_mid_checkpoint_is_the_disk_full_sentence(home, monkeypatch):
    store = Store(home)
    run = store.create_run(tiny_config(epochs=3, home=home))
    real, calls = checkpoint.torch.save, []

    def save(obj, f):
        calls.append(1)
        if len(calls) == 2:  # the step-8 checkpoint: half written, then torch's own error
            f.write(b"PK\x03\x04" + b"\0" * 512)
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 1472 vs 1360")
        return real(obj, f)

    monkeypatch.setattr(checkpoint.torch, "save", save)
    assert execute(home, run) == "failed"
    row = store.get_run(run)
    assert row.error.startswith("the disk is full") and "resume" in row.error, row.error
    assert checkpoint.load(store.run_dir(run).last_checkpoint)["step"] == 4, "the previous checkpoint is intact"
    assert not list(store.run_dir(run).checkpoints.glob(".*tmp*")), "no partial file"


@pytest.mark.parametrize("command", ["export", "evals"])
def test_a_full_disk_while_exporting_leaves_no_partial_file(home, tmp_path, capsys, monkeypatch, command):
    store = Store(home)
    run = store.create_run(tiny_config(epochs=1, home=home))
    store.log_metrics(run, [(1, 0.25, 0.0, "loss", 1.0)])

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(atomic_file.os, "fsync", full)
    out = tmp_path / "out" / "table.csv"
    argv = ["export", run, "--out", str(out)] if command == "export" else \
        ["evals", run, "--table", "csv", "--out", str(out)]
    assert main([*argv, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: the disk is full") and len(err.splitlines()) == 1, err
    assert not out.exists() and os.listdir(out.parent) == [], "no partial file"
