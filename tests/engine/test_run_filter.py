"""The runs browser's filter language (engine/store/run_filter.py): parsing, precedence, fields
from columns, metrics and parameters, one-sentence errors, and group-by with mean ± s.d."""
import pytest

from engine.runs.status import RunStatus
from engine.store.run_filter import FilterError, group_by, parse, select, tokenize
from engine.store.run_record import Run


def _run(i, method, acc, lr, size, status=RunStatus.COMPLETED, sweep=None):
    config = {"data": {"id": "shapes", "params": {"train_size": size}}, "method": {"id": method, "params": {}},
              "backbone": {"id": "convnet", "params": {"width": 8}}, "train": {"lr": lr, "seed": i % 2}}
    return Run(id=f"r{i}", name=f"{method}-seed{i % 2}", status=status, method=method, backbone="convnet",
               dataset="shapes", config=config, created=float(i), latest={"knn_acc": acc}, sweep_id=sweep)


RUNS = [_run(0, "jigsaw", 0.2, 1e-3, 500), _run(1, "jigsaw", 0.4, 1e-2, 1000, sweep=2),
        _run(2, "simclr", 0.5, 1e-3, 1000, RunStatus.FAILED), _run(3, "jigsaw", 0.35, 1e-3, 2000, sweep=2)]


def _ids(text, figures=None):
    return [r.id for r in select(RUNS, text, figures)]


def test_tokens():
    assert [t.text for t in tokenize('method=jigsaw and "svm acc">=0.3')] == \
        ["method", "=", "jigsaw", "and", '"svm acc"', ">=", "0.3"]


@pytest.mark.parametrize("text, ids", [
    ("", ["r0", "r1", "r2", "r3"]),
    ("method = jigsaw and knn_acc > 0.3", ["r1", "r3"]),
    ("METHOD == JIGSAW AND knn_acc <= 0.35", ["r0", "r3"]),
    ("knn_acc > 0.3 and not status = failed", ["r1", "r3"]),
    ("method = simclr or knn_acc < 0.3", ["r0", "r2"]),
    ("method = jigsaw and (lr > 0.005 or data.train_size >= 2000)", ["r1", "r3"]),
    ("method = simclr or method = jigsaw and lr > 0.005", ["r1", "r2"]),  # and binds tighter
    ("train_size = 1000", ["r1", "r2"]),                                  # a bare parameter name
    ("train.seed = 1 and name ~ SEED1", ["r1", "r3"]),
    ("sweep = 2", ["r1", "r3"]),
    ("lr = 1e-3", ["r0", "r2", "r3"]),
    ("nosuch > 1", []),                                                   # no such field: no match
    ('"svm acc" > 0.5', ["r0"]),
])
def test_filters(text, ids):
    figures = {"r0": {"svm acc": 0.6}, "r1": {"svm acc": 0.4}}
    assert _ids(text, figures) == ids


@pytest.mark.parametrize("text, fragment", [
    ("method =", "ends too early"),
    ("method jigsaw", "expected one of"),
    ("knn_acc > > 1", "expected a value"),
    ("(method = jigsaw", "bracket at column 1 is not closed"),
    ("method = jigsaw knn_acc > 1", "unexpected 'knn_acc' at column 17"),
    ("and = 1", "expected a field name"),
    ('name = "open', "quote is not closed"),
    ("knn_acc ! 1", "cannot read the filter at column 9"),
])
def test_errors_are_one_sentence(text, fragment):
    with pytest.raises(FilterError, match=fragment) as e:
        parse(text)
    assert "\n" not in str(e.value)


def test_group_by_with_mean_and_sd():
    groups = group_by(RUNS, "data.train_size", ["knn_acc", "lr"])
    assert [g.value for g in groups] == [500, 1000, 2000] and [g.runs for g in groups] == [1, 2, 1]
    mean, sd, n = groups[1].stats["knn_acc"]
    assert mean == pytest.approx(0.45) and sd == pytest.approx(0.0707107, rel=1e-4) and n == 2
    assert [g.value for g in group_by(RUNS, "sweep", ["knn_acc"])] == [2, "-"]
