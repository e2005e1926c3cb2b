"""Scaling curves of a sweep: a metric against one axis, one curve per value of a second axis,
mean ± s.d. over every other axis (the seeds), and the random-initialisation reference -- the
plots of Goyal, Mahajan, Gupta & Misra (2019), e.g. transfer accuracy against pre-training data
size, one curve per problem complexity.

Computed here, drawn by the GUI (app/views/scaling_view.py) and printed by ``sweep show``.
Metrics are the evaluation protocols' headline figures (``svm acc``, ``knn@20``, ...; the most
recent evaluation of each run wins) and the runs' final logged values (``final knn_acc``).
"""
from __future__ import annotations

import csv
import io
import statistics
from dataclasses import dataclass

from engine.evaluation import protocols
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError
from engine.store.run_record import Run
from engine.store.sweep_record import get_sweep, sweep_runs

FINAL = "final "   # prefix of metrics read from the runs' last logged values
LOG_SPAN = 10.0    # a numeric axis spanning more than this ratio is drawn on a log scale


@dataclass(frozen=True)
class Point:
    x: object         # the axis value (a number, or a plugin id / text)
    mean: float
    std: float        # sample standard deviation over the runs at this point (0 for one run)
    n: int


@dataclass(frozen=True)
class Curve:
    group: object     # the second axis's value (None: a single curve)
    points: tuple[Point, ...]

    @property
    def label(self) -> str:
        return "all runs" if self.group is None else str(self.group)


@dataclass(frozen=True)
class Scaling:
    sweep_id: int
    metric: str
    x_axis: str
    group_axis: str | None
    curves: tuple[Curve, ...]
    reference: float | None   # the metric of the random-init reference run, if evaluated
    log_x: bool
    numeric_x: bool
    missing: int              # runs left out: not completed, or without the metric

    def csv_text(self) -> str:
        out = io.StringIO()
        w = csv.writer(out)
        w.writerow([self.x_axis, self.group_axis or "group", f"{self.metric} mean", f"{self.metric} sd", "runs"])
        for c in self.curves:
            for p in c.points:
                w.writerow([p.x, c.label, f"{p.mean:.6g}", f"{p.std:.6g}", p.n])
        if self.reference is not None:
            w.writerow(["random init", "", f"{self.reference:.6g}", "", 1])
        return out.getvalue()


def _figure(value) -> float | None:
    if isinstance(value, (list, tuple)) and value:
        value = value[0]  # a (mean, std) pair: its mean
    return float(value) if isinstance(value, (int, float)) else None


def evaluation_figures(store: Store, runs: list[Run]) -> dict[str, dict[str, float]]:
    """run id -> protocol headline figure (``svm acc``, ``knn@20``...) -> value, the latest
    evaluation on the run's own data winning; runs without one are left out."""
    own = {r.id: r.dataset for r in runs}
    out: dict[str, dict[str, float]] = {}
    for ev in store.evals():
        if own.get(ev["run_id"]) != ev["dataset"] or ev["protocol"] not in protocols.PROTOCOLS:
            continue  # another run's, or measured on other data than the run's own
        for name, value in protocols.get(ev["protocol"]).headline(ev["results"]).items():
            figure = _figure(value)
            if figure is not None:
                out.setdefault(ev["run_id"], {})[name] = figure
    return out


def run_metrics(store: Store, runs: list[Run]) -> dict[str, dict[str, float]]:
    """run id -> metric name -> value: protocol headlines (``evaluation_figures``) and
    ``final <key>`` for every logged metric."""
    figures = evaluation_figures(store, runs)
    return {r.id: {**{f"{FINAL}{k}": v for k, v in r.latest.items()}, **figures.get(r.id, {})} for r in runs}


def metric_names(store: Store, sweep_id) -> list[str]:
    """The metrics the sweep's runs have, evaluation figures first."""
    sweep = get_sweep(store, sweep_id)
    first = sweep.protocols[0] if sweep.protocols else "-"
    names = {n for m in run_metrics(store, sweep_runs(store, sweep.id)).values() for n in m}
    return sorted(names, key=lambda n: (n.startswith(FINAL), not n.startswith(first), n))


def _sort_key(value):
    return (0, float(value), "") if isinstance(value, (int, float)) and not isinstance(value, bool) else (1, 0.0, str(value))


def _point(x, values: list[float]) -> Point:
    return Point(x, statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else 0.0, len(values))


def scaling(store: Store, sweep_id, metric: str, x_axis: str | None = None, group_axis: str | None = None) -> Scaling:
    """The curves of ``metric`` against ``x_axis`` (default: the sweep's first axis), one per
    value of ``group_axis`` (None: one curve), averaged over the other axes. StoreError for an
    axis the sweep does not have."""
    sweep = get_sweep(store, sweep_id)
    keys = [a.key for a in sweep.spec.axes]
    x_axis = x_axis or (keys[0] if keys else None)
    for axis in (x_axis, group_axis):
        if axis is not None and axis not in keys:
            raise StoreError(f"sweep {sweep.id} has no axis {axis!r} (its axes: {', '.join(keys) or 'none'})")
    if x_axis is None or x_axis == group_axis:
        raise StoreError(f"a scaling plot needs an x axis other than the grouping one (axes: {', '.join(keys) or 'none'})")
    runs = sweep_runs(store, sweep.id)
    done = [r for r in runs if r.status == RunStatus.COMPLETED]
    values = run_metrics(store, done)
    cells: dict[tuple, list[float]] = {}
    for r in done:
        if metric in values[r.id]:
            group = r.axis_values.get(group_axis) if group_axis else None
            cells.setdefault((group, r.axis_values.get(x_axis)), []).append(values[r.id][metric])
    groups = sorted({g for g, _ in cells}, key=_sort_key)
    curves = tuple(Curve(g, tuple(_point(x, cells[(g2, x)]) for g2, x in sorted(cells, key=lambda c: _sort_key(c[1]))
                                  if g2 == g)) for g in groups)
    xs = [x for _, x in cells]
    numeric = bool(xs) and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in xs)
    log_x = numeric and min(xs) > 0 and max(xs) / min(xs) > LOG_SPAN
    reference = None
    if sweep.reference and not sweep.reference.startswith("building:"):
        try:
            ref = store.get_run(sweep.reference)
            reference = run_metrics(store, [ref])[ref.id].get(metric)
        except StoreError:
            reference = None
    used = sum(p.n for c in curves for p in c.points)
    return Scaling(sweep.id, metric, x_axis, group_axis, curves, reference, log_x, numeric, len(runs) - used)


@dataclass(frozen=True)
class ScalingState:
    """Everything the scaling view shows, read in one go (on its background thread)."""
    sweeps: tuple[tuple[int, str], ...]   # (id, name), newest first
    sweep_id: int | None
    axes: tuple[str, ...]
    metrics: tuple[str, ...]
    scaling: Scaling | None
    progress: str   # e.g. "4 of 6 runs completed, 2 evaluated"


def scaling_state(home, sweep_id=None, metric=None, x_axis=None, group_axis=None) -> ScalingState:
    """The scaling view's state for the chosen sweep (default: the newest) and metric (default:
    the first evaluation figure); an axis or metric the sweep lacks falls back to the default."""
    from engine.store.sweep_record import list_sweeps

    with Store(home) as store:
        sweeps = list_sweeps(store)
        chosen = next((s for s in sweeps if s.id == sweep_id), sweeps[0] if sweeps else None)
        if chosen is None:
            return ScalingState((), None, (), (), None, "no sweeps yet: create one in the Sweeps view")
        axes = tuple(a.key for a in chosen.spec.axes)
        metrics = tuple(metric_names(store, chosen.id))
        metric = metric if metric in metrics else next(iter(metrics), None)
        x_axis = x_axis if x_axis in axes else next(iter(axes), None)
        group_axis = group_axis if group_axis in axes and group_axis != x_axis else None
        data = scaling(store, chosen.id, metric, x_axis, group_axis) if metric and x_axis else None
        runs = sweep_runs(store, chosen.id)
        evaluated = sum(1 for r in runs if r.evals)
        done = sum(1 for r in runs if r.status == RunStatus.COMPLETED)
    progress = f"{chosen.status}: {done} of {len(runs)} runs completed, {evaluated} evaluated"
    return ScalingState(tuple((s.id, s.name) for s in sweeps), chosen.id, axes, metrics, data, progress)
