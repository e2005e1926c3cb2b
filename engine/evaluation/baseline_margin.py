"""How far each run's figures are from random initialisation, and whether that is more than
the noise between seeds: what the comparison table shows beside each figure.

A run is compared with the random-init pseudo-runs (engine.evaluation.evaluate.random_baseline)
of the same backbone and data. Its *seed group* is every trained run whose configuration
differs from it only in ``train.seed`` (and name); the margin is the group's mean minus the
baselines' mean, and its noise the spread of one seed's difference,
``sqrt(s_runs^2 + s_baselines^2)`` with ``s`` the sample standard deviation over seeds. With a
single seed on either side the noise is unknown, and nothing is called a win: a difference
counts only when it exceeds ``WIN_SIGMAS`` times the noise (the two-standard-deviation rule
the methods table uses).
"""
from __future__ import annotations

import copy
import json
import math
from dataclasses import dataclass

from engine.store.run_record import Run

WIN_SIGMAS = 2.0


@dataclass(frozen=True)
class Margin:
    """delta: the group's mean minus random init's (a fraction); noise: the seed spread of
    that difference, None when either side has one seed; seeds: (runs, baselines) counted."""

    delta: float
    noise: float | None
    seeds: tuple[int, int]

    @property
    def significant(self) -> bool:
        return self.noise is not None and abs(self.delta) > WIN_SIGMAS * self.noise

    def text(self) -> str:
        """``+12.1 ± 0.8`` (percentage points); ``± ?`` without a noise estimate."""
        noise = "?" if self.noise is None else f"{100 * self.noise:.1f}"
        return f"{100 * self.delta:+.1f} ± {noise}"


def _scalar(value) -> float | None:
    if value is None:
        return None
    return float(value[0]) if isinstance(value, (list, tuple)) else float(value)


def _std(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    m = sum(values) / len(values)
    return math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1))


def _key(config: dict, *sections: str) -> str:
    c = copy.deepcopy({s: config.get(s) for s in sections})
    if "train" in c and isinstance(c["train"], dict):
        c["train"].pop("seed", None)
    return json.dumps(c, sort_keys=True, default=str)


def seed_group_key(run: Run) -> str:
    """Runs with one key differ only in their seed (and name)."""
    return _key(run.config, "data", "method", "backbone", "train")


def baseline_key(run: Run) -> str:
    """A run and the random-init baselines it is compared with share this key."""
    return _key(run.config, "data", "backbone")


def margins(runs: list[Run], rows: list[dict], columns: list[str]) -> dict[tuple[str, str], Margin]:
    """(run id, column) -> Margin for every trained run and figure column that has a random
    baseline value; ``rows`` are comparison_table's (figures keyed by column, ``id``)."""
    by_id = {r.id: r for r in runs}
    value = {(row["id"], c): _scalar(row.get(c)) for row in rows for c in columns}
    groups: dict[str, list[str]] = {}
    bases: dict[str, list[str]] = {}
    for row in rows:
        run = by_id.get(row["id"])
        if run is not None:
            (bases.setdefault(baseline_key(run), []) if run.is_baseline
             else groups.setdefault(seed_group_key(run), [])).append(run.id)
    out = {}
    for ids in groups.values():
        base_ids = bases.get(baseline_key(by_id[ids[0]]), [])
        for c in columns:
            ours = [value[(i, c)] for i in ids if value[(i, c)] is not None]
            theirs = [value[(i, c)] for i in base_ids if value[(i, c)] is not None]
            if not ours or not theirs:
                continue
            s_ours, s_theirs = _std(ours), _std(theirs)
            noise = None if s_ours is None or s_theirs is None else math.hypot(s_ours, s_theirs)
            m = Margin(sum(ours) / len(ours) - sum(theirs) / len(theirs), noise, (len(ours), len(theirs)))
            for i in ids:
                out[(i, c)] = m
    return out


def column_winners(rows: list[dict], column: str, runs: list[Run]) -> set[str]:
    """The run ids to mark best in ``column``: the seed group with the highest mean, only when
    it is ahead of the next group by more than WIN_SIGMAS seed spreads of a difference
    (pooled over the column's groups of two or more seeds); none when it is not, or when no
    group has two seeds, so a difference inside the noise is never shown as a win."""
    by_id = {r.id: r for r in runs}
    groups: dict[str, list[tuple[float, str]]] = {}
    for r in rows:
        if r.get(column) is not None and r["id"] in by_id:
            groups.setdefault(seed_group_key(by_id[r["id"]]), []).append((float(_scalar(r[column])), r["id"]))
    variances = [_std([v for v, _ in g]) ** 2 for g in groups.values() if len(g) >= 2]
    if len(groups) < 2 or not variances:
        return set()
    spread = math.sqrt(2 * sum(variances) / len(variances))
    ranked = sorted(groups.values(), key=lambda g: -sum(v for v, _ in g) / len(g))
    mean = [sum(v for v, _ in g) / len(g) for g in ranked[:2]]
    return {rid for _, rid in ranked[0]} if mean[0] - mean[1] > WIN_SIGMAS * spread else set()
