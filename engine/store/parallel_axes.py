"""The axes of a parallel-coordinates view of many runs (Inselberg, 1985; as Optuna and
TensorBoard's HParams draw them): one vertical axis per parameter that differs between the
runs and per chosen metric, each run a polyline through its value on every axis.

``parallel_axes`` places every run on every axis in [0, 1] (bottom to top): numbers linearly,
or on a log scale where they are all positive and span at least two decades (learning rates,
data sizes); anything else as evenly spaced categories in sorted order. A run without the
field has no position there (NaN), so its line breaks instead of pretending a value. The GUI
(app/widgets/parallel_coordinates.py) only draws what this returns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.store.run_filter import MISSING, as_number, field_value
from engine.store.run_record import Run

LOG_SPAN = 100.0  # max / min at or above which a positive axis is drawn on a log scale


@dataclass(frozen=True)
class Axis:
    field: str                 # e.g. "train.lr", "knn_acc" (a run_filter field)
    kind: str                  # "linear", "log" or "category"
    ticks: tuple               # ((position in [0, 1], label), ...) to draw beside the axis


@dataclass(frozen=True)
class ParallelAxes:
    axes: tuple[Axis, ...]
    positions: np.ndarray      # (runs, axes) float, NaN where a run lacks the field
    run_ids: tuple[str, ...]


def flat_config(config: dict) -> dict:
    """{"method": {"id": "simclr", "params": {"temperature": 0.5}}} -> {"method": "simclr",
    "method.temperature": 0.5}; the training settings become "train.<name>" (the runs
    browser's parallel coordinates and Compare read configs through this)."""
    out = {}
    for section, value in config.items():
        if isinstance(value, dict) and "id" in value:
            out[section] = value["id"]
            out.update({f"{section}.{k}": v for k, v in (value.get("params") or {}).items()})
        elif isinstance(value, dict):
            out.update({f"{section}.{k}": v for k, v in value.items()})
        else:
            out[section] = value
    return out


def varying_fields(runs: list[Run]) -> list[str]:
    """Parameters (``section.name``, and the data/method/backbone ids) whose value is not the
    same for every run (a run without one counts as a value of its own), in config order."""
    flat = [flat_config(r.config) for r in runs]
    keys = list(dict.fromkeys(k for params in flat for k in params))
    return [k for k in keys if len({repr(params.get(k, MISSING)) for params in flat}) > 1]


def _numeric_axis(field: str, xs: np.ndarray) -> tuple[Axis, np.ndarray]:
    ok = ~np.isnan(xs)
    lo, hi = (float(xs[ok].min()), float(xs[ok].max())) if ok.any() else (0.0, 1.0)
    if lo > 0 and hi / lo >= LOG_SPAN:
        kind, t = "log", (np.log10(xs) - math.log10(lo)) / (math.log10(hi) - math.log10(lo))
    else:
        kind, t = "linear", (xs - lo) / (hi - lo) if hi > lo else np.where(ok, 0.5, np.nan)
    ticks = ((0.0, f"{lo:.4g}"), (1.0, f"{hi:.4g}")) if hi > lo else ((0.5, f"{lo:.4g}"),)
    return Axis(field, kind, ticks), t


def _category_axis(field: str, values: list) -> tuple[Axis, np.ndarray]:
    labels = sorted({str(v) for v in values if v is not MISSING})
    where = {label: (i / (len(labels) - 1) if len(labels) > 1 else 0.5) for i, label in enumerate(labels)}
    t = np.array([np.nan if v is MISSING else where[str(v)] for v in values], np.float64)
    return Axis(field, "category", tuple((where[label], label) for label in labels)), t


def parallel_axes(runs: list[Run], metrics: list[str], figures: dict | None = None) -> ParallelAxes:
    """Axes for ``runs``: the parameters that differ between them, then ``metrics`` (each a
    run_filter field: a logged metric or, with ``figures`` (run id -> {name: value}), an
    evaluation figure); a metric no run has is left out."""
    figures = figures or {}
    axes, columns = [], []
    for field in [*varying_fields(runs), *metrics]:
        values = [field_value(r, field, figures.get(r.id, {})) for r in runs]
        if all(v is MISSING for v in values):
            continue
        numbers = [None if v is MISSING else as_number(v) for v in values]
        if all(n is not None for n, v in zip(numbers, values) if v is not MISSING):
            axis, t = _numeric_axis(field, np.array([np.nan if n is None else n for n in numbers], np.float64))
        else:
            axis, t = _category_axis(field, values)
        axes.append(axis)
        columns.append(t)
    positions = np.stack(columns, axis=1) if columns else np.zeros((len(runs), 0))
    return ParallelAxes(tuple(axes), positions, tuple(r.id for r in runs))
