"""Guarantee: resume with the checkpoint gone (issue 19, found 6) is refused with one sentence
that offers a fresh start; the metric history is kept unless the user asks for that start."""
import pytest
from fault_helpers import steps_of, tiny_config

from engine.cli.commands import main
from engine.runs.worker import execute
from engine.store.database import Store

pytestmark = pytest.mark.faults


def _stopped_without_checkpoint(home):
    store = Store(home)
    run = store.create_run(tiny_config(epochs=1, home=home))
    assert execute(home, run) == "completed"
    store.update_run(run, status="stopped")
    store.run_dir(run).last_checkpoint.unlink()
    return store, run


def test_resume_without_a_checkpoint_is_refused_and_keeps_the_history(home, capsys):
    store, run = _stopped_without_checkpoint(home)
    before = steps_of(store, run)
    assert before == [1, 2, 3, 4]
    assert main(["resume", run, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no checkpoint" in err and f"resume {run} --fresh" in err, err
    assert steps_of(store, run) == before and store.get_run(run).status == "stopped"
    assert main(["resume", run, "--fresh", "--home", str(home)]) == 0
    assert steps_of(store, run) == [1, 2, 3, 4], "trained again from step 1, each step once"
    assert store.get_run(run).status == "completed"


def test_a_worker_that_finds_the_checkpoint_gone_fails_and_keeps_the_history(home):
    store, run = _stopped_without_checkpoint(home)
    store.requeue(run)  # as if the checkpoint vanished after the resume was asked for
    assert execute(home, run) == "failed"
    row = store.get_run(run)
    assert "no checkpoint" in row.error and "--fresh" in row.error
    assert steps_of(store, run) == [1, 2, 3, 4]
