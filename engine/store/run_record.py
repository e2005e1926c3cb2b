"""One row of the ``runs`` table as a typed, read-only value (DESIGN.md, "Store schema").

``Store.get_run`` and ``Store.list_runs`` return these: the status a ``RunStatus``, the config
a dict. A Run is a snapshot; change a run with ``Store.update_run`` and read it again.

A Run read from the store parses its config JSON when ``config`` (or ``damage``, which depends
on it) is first read, not before: listing 10,000 runs for the runs browser, which shows a
screenful, spent most of its time in ``json.loads`` (docs/performance.md, "10,000 runs").
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from engine.runs.status import RunStatus
from engine.store.schema import StoreError

RANDOM_METHOD = "random"  # the method id of a random-initialisation baseline (engine.evaluation.evaluate)


@dataclass(frozen=True)
class Run:
    id: str
    name: str
    status: RunStatus
    method: str
    backbone: str
    dataset: str
    config: dict
    created: float
    started: float | None = None
    ended: float | None = None
    heartbeat: float | None = None
    pid: int | None = None
    host: str | None = None
    device: str | None = None
    error: str | None = None
    parent_id: str | None = None
    control: str = ""
    notes: str = ""
    tags: str = ""
    step: int = 0
    total_steps: int = 0
    lease: int = 0          # the owning worker's fencing number (engine/store/lease.py)
    sweep_id: int | None = None   # the sweep that made the run (engine/sweeps), if any
    axis_values: dict = field(default_factory=dict)  # that sweep's axis key -> this run's value
    # Not columns: list_runs joins them in (get_run leaves them empty).
    latest: dict = field(default_factory=dict)   # metric key -> its last value
    evals: int = 0                               # how many evaluations are stored
    # Why the row cannot be trained or evaluated (e.g. its config is not JSON). A factory, so
    # that the class has no attribute of this name and a lazy Run finds it in __getattr__.
    damage: str = field(default_factory=str)

    @classmethod
    def from_row(cls, row: sqlite3.Row, latest: dict | None = None, evals: int = 0) -> "Run":
        """The row as a Run. A damaged row (edited by hand, written by a broken tool) still
        reads: ``damage`` says what is wrong and ``config`` is a skeleton of the row's own
        columns, so lists and views keep working while training and evaluation refuse it."""
        keys = row.keys()
        values = tuple(row[k] if k in keys else _DEFAULTS.get(k) for k in COLUMNS)
        return cls.from_values(values, dict(latest or {}), evals)

    @classmethod
    def from_values(cls, values: tuple, latest: dict, evals: int) -> "Run":
        """A Run from the row's values in ``COLUMNS`` order (``SELECT_COLUMNS``); ``latest`` is
        kept, not copied. Built without the dataclass ``__init__`` (a tenth of the cost with
        10,000 runs); the config is parsed when first read (``__getattr__``)."""
        state = dict(zip(_LAZY_KEYS, values))
        try:
            state["status"] = RunStatus.parse(state["status"])
        except ValueError as e:
            state["status"], state["_status_damage"] = RunStatus.FAILED, str(e)
        state["axis_values"] = _axis_values(state["axis_values"])
        state["latest"], state["evals"] = latest, evals
        run = object.__new__(cls)
        run.__dict__.update(state)
        return run

    def __getattr__(self, name: str) -> Any:
        """``config`` and ``damage`` of a Run read from the store, parsed on first use."""
        state = self.__dict__
        if name not in ("config", "damage") or "_config_text" not in state:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        state["config"], state["damage"] = _parse_config(state)
        return state[name]

    def adopt_parsed(self, other: "Run") -> None:
        """Take ``other``'s parsed config if it is a snapshot of the same stored config (and
        status): a refresh of 10,000 runs parses only the configs that changed (``reuse_parsed``)."""
        mine, theirs = self.__dict__, other.__dict__
        if ("config" in theirs and "config" not in mine and mine.get("_config_text") is not None
                and mine["_config_text"] == theirs.get("_config_text")
                and mine.get("_status_damage") == theirs.get("_status_damage")):
            mine["config"], mine["damage"] = theirs["config"], theirs["damage"]

    @property
    def epochs(self) -> int:
        return self.config["train"].get("epochs", 0)

    def check_usable(self) -> None:
        """StoreError (one sentence) if the row is damaged."""
        if self.damage:
            raise StoreError(f"run {self.id} is damaged: {self.damage}; it can be listed and deleted only")

    @property
    def short_id(self) -> str:
        """The id's random suffix (``261201-193143-09dd`` -> ``09dd``): with the name, enough to
        tell runs of one name apart at a glance; the full id stays in tooltips and the CLI."""
        return self.id.rsplit("-", 1)[-1]

    @property
    def is_baseline(self) -> bool:
        """A random-initialisation reference, not a training run: never resumed or cloned."""
        return self.method == RANDOM_METHOD

    def to_dict(self) -> dict:
        """Plain values (status as its string) for JSON output and tables."""
        out = asdict(self)
        out["status"] = self.status.value
        return out

    def __reduce__(self):  # a copy or pickle of a lazy Run is a plain one
        return _rebuild, (type(self), {f.name: getattr(self, f.name) for f in fields(self)})


def _rebuild(cls, values: dict) -> "Run":
    return cls(**values)


def reuse_parsed(runs: list[Run], previous: list[Run]) -> None:
    """Let each of ``runs`` take the parsed config of its earlier snapshot in ``previous``."""
    if not previous:
        return
    before = {r.id: r for r in previous}
    for run in runs:
        old = before.get(run.id)
        if old is not None:
            run.adopt_parsed(old)


def _parse_config(state: dict) -> tuple[dict, str]:
    """(config, damage) of a lazy Run's state, as ``from_row`` always made them."""
    try:
        config = json.loads(state["_config_text"] or "")
    except (TypeError, ValueError) as e:
        config, damage = None, f"its config is not valid JSON ({str(e)[:80]})"
    else:
        damage = state.get("_status_damage", "") or _config_damage(config)
    if damage:
        config = _skeleton(state)
    return config, damage


def _axis_values(text) -> dict:
    try:
        values = json.loads(text) if text else {}
    except (TypeError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


def _config_damage(config) -> str:
    if not isinstance(config, dict):
        return "its config is not a JSON object"
    missing = [k for k in SECTIONS if not isinstance(config.get(k), dict)]
    if missing:
        return f"its config lacks {', '.join(missing)}"
    if any(not isinstance(config[k].get("id"), str) for k in SECTIONS[:3]):
        return "its config names no plugin id"
    return ""


def _skeleton(values: dict) -> dict:
    return {"data": {"id": values.get("dataset") or "", "params": {}},
            "method": {"id": values.get("method") or "", "params": {}},
            "backbone": {"id": values.get("backbone") or "", "params": {}}, "train": {}}


SECTIONS = ("data", "method", "backbone", "train")
COLUMNS = tuple(f.name for f in fields(Run) if f.name not in ("latest", "evals", "damage"))  # of the runs table
SELECT_COLUMNS = ", ".join(COLUMNS)   # what from_values reads, in its order
_DEFAULTS = {f.name: f.default for f in fields(Run) if not isinstance(f.default, type(dataclasses.MISSING))}
_LAZY_KEYS = tuple("_config_text" if c == "config" else c for c in COLUMNS)
