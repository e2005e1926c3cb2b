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
    # Not columns: list_runs joins them in (get_run leaves them empty).
    latest: dict = field(default_factory=dict)   # metric key -> its last value
    evals: int = 0                               # how many evaluations are stored

    @classmethod
    def from_row(cls, row: sqlite3.Row, latest: dict | None = None, evals: int = 0) -> "Run":
        values = dict(row)
        try:
            values["status"] = RunStatus.parse(values["status"])
        except ValueError as e:
            raise StoreError(f"run {values['id']}: {e}") from None
        values["config"] = json.loads(values["config"])
        return cls(**values, latest=dict(latest or {}), evals=evals)

    @property
    def epochs(self) -> int:
        return self.config["train"]["epochs"]

    def to_dict(self) -> dict:
        """Plain values (status as its string) for JSON output and tables."""
        out = asdict(self)
        out["status"] = self.status.value
        return out


COLUMNS = tuple(f.name for f in fields(Run) if f.name not in ("latest", "evals"))
