"""One row of the ``runs`` table as a typed, read-only value (DESIGN.md, "Store schema").

``Store.get_run`` and ``Store.list_runs`` return these: the config parsed, the status a
``RunStatus``. A Run is a snapshot; change a run with ``Store.update_run`` and read it again.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, dataclass, field, fields

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
    damage: str = ""   # why the row cannot be trained or evaluated (e.g. its config is not JSON)

    @classmethod
    def from_row(cls, row: sqlite3.Row, latest: dict | None = None, evals: int = 0) -> "Run":
        """The row as a Run. A damaged row (edited by hand, written by a broken tool) still
        reads: ``damage`` says what is wrong and ``config`` is a skeleton of the row's own
        columns, so lists and views keep working while training and evaluation refuse it."""
        values = {k: row[k] for k in row.keys() if k in _COLUMN_SET}
        damage = ""
        try:
            values["status"] = RunStatus.parse(values["status"])
        except ValueError as e:
            values["status"], damage = RunStatus.FAILED, str(e)
        try:
            values["config"] = json.loads(values["config"] or "")
        except (TypeError, ValueError) as e:
            values["config"], damage = None, f"its config is not valid JSON ({str(e)[:80]})"
        damage = damage or _config_damage(values["config"])
        values["axis_values"] = _axis_values(values.get("axis_values"))
        if damage:
            values["config"] = _skeleton(values)
        return cls(**values, latest=dict(latest or {}), evals=evals, damage=damage)

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
COLUMNS = tuple(f.name for f in fields(Run) if f.name not in ("latest", "evals", "damage"))
_COLUMN_SET = frozenset(COLUMNS)
