"""The evaluation progress events: each kind survives ``to_line`` -> ``parse_line``, other
lines are not mistaken for events, and ``main.py eval --progress jsonl`` writes a job's
events on stdout (its error as an event too)."""
from __future__ import annotations

import io
import json

import pytest

from engine.evaluation.progress_events import (
    EvalFailed,
    EventWriter,
    JobStarted,
    ResultStored,
    StepProgress,
    parse_line,
    to_line,
)

EVENTS = [JobStarted(4, ["a", "b"], ["knn", "fewshot"]), StepProgress(1, "a", "knn", 450, 1000, "features of test"),
          ResultStored(1, "a", "fewshot", 12, "shapes", "last.pt", {"1-shot": [0.5, 0.1]}),
          EvalFailed("run 'x' not found")]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.kind)
def test_every_event_survives_the_round_trip(event):
    line = to_line(event)
    assert "\n" not in line and json.loads(line)["event"] == event.kind
    assert parse_line(line) == event
    assert parse_line("  " + line + "\r\n") == event


@pytest.mark.parametrize("line", ["", "knn r1 [####----] 450/1000 00:03", "{not json", "[1, 2]",
                                  '{"event": "nope", "message": "x"}', '{"event": "step", "index": 0}',
                                  '{"message": "no kind"}'])
def test_other_lines_are_not_events(line):
    assert parse_line(line) is None


def test_a_newer_writer_s_extra_fields_are_ignored():
    line = json.dumps({"event": "error", "message": "disk full", "code": 28})
    assert parse_line(line) == EvalFailed("disk full")


def test_steps_are_throttled_but_the_last_one_always_written():
    out = io.StringIO()
    progress = EventWriter(out, every=60).step(0, "r", "knn")
    for done in (100, 200, 300, 1000):
        progress(done, 1000, "features")
    events = [parse_line(line) for line in out.getvalue().splitlines()]
    assert [e.done for e in events] == [100, 1000]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    from engine import registry
    from engine.runs.worker import execute
    from engine.store.database import Store
    from engine.training.config import build_config

    registry.discover()
    home = tmp_path_factory.mktemp("eventshome")
    cfg = build_config("shapes", "simclr", "convnet",
                       train={"epochs": 1, "batch_size": 16, "device": "cpu", "knn_every": 0},
                       sets={"train_size": "48", "test_size": "24", "image_size": "16", "width": "8",
                             "num_classes": "3"})
    run_id = Store(home).create_run(cfg)
    assert execute(home, run_id) == "completed"
    return home, run_id


def cli_events(capsys, *argv):
    from engine.cli.commands import main

    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, [parse_line(line) for line in out.out.splitlines()], out.err


def test_eval_writes_its_events_on_stdout(trained, capsys):
    home, run_id = trained
    rc, events, err = cli_events(capsys, "eval", run_id, "--protocol", "knn,fewshot", "--progress", "jsonl",
                                 "--home", str(home))
    assert rc == 0 and None not in events  # stdout holds events only
    assert events[0] == JobStarted(2, [run_id], ["knn", "fewshot"])
    stored = [e for e in events if isinstance(e, ResultStored)]
    assert [(e.index, e.run_id, e.protocol) for e in stored] == [(0, run_id, "knn"), (1, run_id, "fewshot")]
    assert stored[0].eval_id < stored[1].eval_id and "knn@20" in stored[0].headline
    steps = [e for e in events if isinstance(e, StepProgress)]
    assert {e.index for e in steps} == {0, 1} and all(e.done == e.total for e in steps if e is steps[-1])
    assert "[#" not in err  # no bar for a program


def test_eval_errors_are_an_event_and_main_s_sentence(trained, capsys):
    home, run_id = trained
    rc, events, err = cli_events(capsys, "eval", run_id, "--protocol", "nope", "--progress", "jsonl",
                                 "--home", str(home))
    assert rc == 2 and len(events) == 1 and isinstance(events[0], EvalFailed)
    assert "nope" in events[0].message and err.strip() == f"error: {events[0].message}"
