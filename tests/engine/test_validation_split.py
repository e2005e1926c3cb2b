"""Scoring on a validation split carved from train: settings are chosen without reading test.

The view holds out whole clips (all their frames), is stratified and seeded, keeps train and
validation disjoint, never loads the test split, and its rows are named as validation rows."""
from __future__ import annotations

import numpy as np
import pytest

from engine import registry
from engine.data.validation_view import Validation, ValidationOf
from engine.evaluation.evaluate import evaluate
from engine.evaluation.protocols.clip_readout import ClipReadout
from engine.evaluation.tables import comparison_table
from engine.params import ParamError
from engine.runs.paths import RunPaths
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config

DATA = {"image_size": "16", "frames": "4", "train_size": "40", "test_size": "16", "width": "8"}


def _dataset(home):
    params = registry.resolve_params("dataset", "moving_shapes", {k: v for k, v in DATA.items() if k != "width"})
    return registry.create_dataset("moving_shapes", params, RunPaths(home).cache)


def test_the_view_partitions_train_by_whole_clips_and_never_reads_test(home):
    inner = _dataset(home)
    real_split = inner.split

    def no_test(name, progress=None):
        assert name != "test", "the validation view read the test split"
        return real_split(name, progress)

    inner.split = no_test
    view = ValidationOf(inner, Validation(0.25, seed=3))
    train, val, whole = view.split("train"), view.split("test"), real_split("train")
    assert len(train.labels) + len(val.labels) == len(whole.labels) == 40
    assert val.images.shape[1:] == whole.images.shape[1:]  # clips, not frames
    rows = {whole.images[i].tobytes(): i for i in range(40)}
    got_train = {rows[c.tobytes()] for c in train.images}
    got_val = {rows[c.tobytes()] for c in val.images}
    assert not got_train & got_val and len(got_train | got_val) == 40
    for name in ("motion_labels",):
        assert np.array_equal(val.targets[name], whole.targets[name][sorted(got_val)])
    again = ValidationOf(_dataset(home), Validation(0.25, seed=3)).split("test")
    assert np.array_equal(again.labels, val.labels)  # seeded: the same clips every time


def test_a_validation_eval_is_stored_and_named_as_one(home):
    config = build_config("moving_shapes", "slow_features", "r2plus1d", sets=DATA, preset="quick",
                          train={"epochs": 1, "batch_size": 16, "knn_every": 0})
    store = Store(home)
    run_id = store.create_run(config)
    store.close()
    assert execute(home, run_id) == "completed"
    val = evaluate(home, run_id, "knn", {"k": "5"}, validation=Validation(0.25))
    test = evaluate(home, run_id, "knn", {"k": "5"})
    assert val["params"]["validation"] == {"fraction": 0.25, "seed": 0}
    assert val["results"]["train_size"] == 30 * 4 and test["results"]["train_size"] == 40 * 4
    clip = evaluate(home, run_id, "linear", {"max_iter": "10"}, readout=ClipReadout.of("clip", "motion_labels"),
                    validation=Validation(0.25))
    assert clip["results"]["train_size"] == 30
    columns, _ = comparison_table(home)
    assert {"knn@5 (frame)", "knn@5 (frame, validation)", "linear top-1 (clip, motion_labels, validation)"} <= set(columns)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.2])
def test_a_fraction_outside_zero_one_is_one_sentence(fraction):
    with pytest.raises(ParamError, match="between 0 and 1"):
        Validation(fraction)
