"""Sweep axes: one parameter (of any section) and the list of values it takes, combined as a
grid (every combination) or zipped (the i-th value of every axis together).

``data.train_size=500,1000,2000`` names a section explicitly; a bare key goes to the one section
whose schema has it (``engine.training.config.split_assignments``), except ``seed``, which on an
axis always means the training seed (``train.seed``; the dataset generator's is ``data.seed``).
``data``, ``method`` or ``backbone`` alone is an axis over plugin ids.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import Enum

from engine.params import ParamError

PLUGIN_SECTIONS = ("data", "method", "backbone")
ALIASES = {"seed": "train.seed"}   # Goyal et al. (2019) repeat every point over training seeds


class Combine(str, Enum):
    GRID = "grid"   # the Cartesian product of the axes
    ZIP = "zip"     # axes of equal length, taken in step

    def __str__(self) -> str:
        return self.value

    @classmethod
    def parse(cls, value: str) -> Combine:
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            raise ParamError(f"axes combine as {' or '.join(c.value for c in cls)}, not {value!r}") from None


@dataclass(frozen=True)
class Axis:
    key: str              # "data.train_size", "train.seed", "backbone" (a plugin-id axis)
    values: tuple         # as given: strings from the CLI, typed values from forms or JSON

    def to_json(self) -> dict:
        return {"key": self.key, "values": list(self.values)}

    @classmethod
    def from_json(cls, d: dict) -> Axis:
        return cls(d["key"], tuple(d["values"]))

    @property
    def is_plugin(self) -> bool:
        return self.key in PLUGIN_SECTIONS


def parse_axis(text: str) -> Axis:
    """``"data.train_size=500,1000"`` -> Axis; ParamError (one sentence) for a malformed one."""
    if "=" not in text:
        raise ParamError(f"an axis is KEY=V1,V2,..., e.g. data.train_size=500,1000; got {text!r}")
    key, _, values = text.partition("=")
    return make_axis(key, [v.strip() for v in values.split(",")])


def make_axis(key: str, values) -> Axis:
    key = ALIASES.get(key.strip(), key.strip())
    values = tuple(v for v in values if not (isinstance(v, str) and not v))
    if not key:
        raise ParamError("an axis needs a parameter name, e.g. data.train_size=500,1000")
    if not values:
        raise ParamError(f"axis {key} has no values")
    if len({str(v) for v in values}) != len(values):
        raise ParamError(f"axis {key} repeats a value")
    return Axis(key, values)


def check_axes(axes: list[Axis], combine: Combine) -> None:
    keys = [a.key for a in axes]
    for k in keys:
        if keys.count(k) > 1:
            raise ParamError(f"axis {k} is given twice; put all its values on one --axis")
    if combine == Combine.ZIP and len({len(a.values) for a in axes}) > 1:
        lengths = ", ".join(f"{a.key} has {len(a.values)}" for a in axes)
        raise ParamError(f"zipped axes need the same number of values ({lengths})")


def combinations(axes: list[Axis], combine: Combine = Combine.GRID) -> list[dict]:
    """Every point of the sweep as ``{axis key: value}``, in a stable order (the first axis
    varies slowest). No axes: one point, the base configuration."""
    check_axes(axes, combine)
    if not axes:
        return [{}]
    keys = [a.key for a in axes]
    if combine == Combine.ZIP:
        rows = zip(*(a.values for a in axes))
    else:
        rows = itertools.product(*(a.values for a in axes))
    return [dict(zip(keys, row)) for row in rows]


def count(axes: list[Axis], combine: Combine = Combine.GRID) -> int:
    """How many runs the axes make (the GUI shows it before Start)."""
    if not axes:
        return 1
    if combine == Combine.ZIP:
        return len(axes[0].values)
    n = 1
    for a in axes:
        n *= len(a.values)
    return n
