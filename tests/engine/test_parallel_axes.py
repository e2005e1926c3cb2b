"""The parallel-coordinates axes (engine/store/parallel_axes.py): only parameters that differ
become axes, then the chosen metrics; numbers are placed linearly, or on a log scale over two
decades or more; words as sorted categories; a missing value breaks the line (NaN)."""
import math

import numpy as np

from engine.store.parallel_axes import parallel_axes, varying_fields
from engine.store.run_record import Run


def _run(i, lr, size, method, knn=None):
    config = {"data": {"id": "shapes", "params": {"train_size": size, "image_size": 32}},
              "method": {"id": method, "params": {}}, "backbone": {"id": "convnet", "params": {"width": 16}},
              "train": {"epochs": 10, "lr": lr}}
    return Run(id=f"r{i}", name=f"run {i}", status="completed", method=method, backbone="convnet",
               dataset="shapes", config=config, created=0.0, latest={} if knn is None else {"knn_acc": knn})


def test_axes_are_the_differing_parameters_then_the_metrics():
    runs = [_run(0, 1e-4, 250, "jigsaw", 0.3), _run(1, 1e-2, 1000, "jigsaw", 0.5),
            _run(2, 1e-3, 4000, "rotation")]
    assert varying_fields(runs) == ["data.train_size", "method", "train.lr"]
    view = parallel_axes(runs, ["knn_acc", "never_logged"])
    assert [a.field for a in view.axes] == ["data.train_size", "method", "train.lr", "knn_acc"]
    assert [a.kind for a in view.axes] == ["linear", "category", "log", "linear"]
    pos = view.positions
    assert pos.shape == (3, 4) and view.run_ids == ("r0", "r1", "r2")
    assert np.allclose(pos[:, 0], [0.0, 750 / 3750, 1.0])
    assert list(pos[:, 1]) == [0.0, 0.0, 1.0] and view.axes[1].ticks == ((0.0, "jigsaw"), (1.0, "rotation"))
    assert np.allclose(pos[:, 2], [0.0, 1.0, 0.5])  # 1e-3 halfway between 1e-4 and 1e-2 on a log axis
    assert np.allclose(pos[:2, 3], [0.0, 1.0]) and math.isnan(pos[2, 3])  # no knn_acc: the line breaks
    assert view.axes[3].ticks == ((0.0, "0.3"), (1.0, "0.5"))


def test_one_run_or_equal_runs_have_only_metric_axes():
    same = [_run(i, 1e-3, 1000, "simclr", 0.4) for i in range(3)]
    view = parallel_axes(same, ["knn_acc"])
    assert [a.field for a in view.axes] == ["knn_acc"] and list(view.positions[:, 0]) == [0.5] * 3
    assert parallel_axes([], ["knn_acc"]).positions.shape == (0, 0)
