"""Parameter helpers shared by the protocols: comma-separated number lists (grids, k values)."""
from __future__ import annotations

from engine.params import Param, ParamError


def number_list(text, kind=float, name: str = "value") -> list:
    """``"0.1, 1,10"`` or ``["0.1", "1"]`` -> ``[0.1, 1.0, ...]`` (items converted by ``kind``)."""
    items = text if isinstance(text, (list, tuple)) else [t for t in str(text).split(",") if t.strip()]
    try:
        values = [kind(str(t).strip()) for t in items]
    except ValueError:
        what = "whole numbers" if kind is int else "numbers"
        raise ParamError(f"{name} must be a comma-separated list of {what}, got {','.join(map(str, items))!r}") from None
    if not values:
        raise ParamError(f"{name} needs at least one value")
    return values


def seed_param() -> Param:
    return Param("seed", "int", 0, "seed of every random choice the protocol makes", 0, 2**31 - 1)


def _item_kind(default) -> type:
    """int when every default item is a whole number ("20,200"), else float ("0,1e-3")."""
    items = number_list(default, float)
    return int if all(float(v).is_integer() and "e" not in str(t).lower() and "." not in str(t)
                      for v, t in zip(items, str(default).split(","))) else float


def check_number_lists(schema, values: dict) -> None:
    """Every ``list`` parameter of a protocol is a list of numbers: check them up front, so a
    typo fails before any features are computed."""
    for p in schema:
        if p.kind == "list":
            bounded(number_list(values[p.name], _item_kind(p.default), p.name), p)


def bounded(values: list, p: Param) -> list:
    """ParamError unless every item lies in ``[p.low, p.high]`` (a k of 0 or -5 is no result)."""
    for v in values:
        if (p.low is not None and v < p.low) or (p.high is not None and v > p.high) or v != v:
            span = f"from {p.low:g} to {p.high:g}" if p.low is not None and p.high is not None else \
                (f"at least {p.low:g}" if p.low is not None else f"at most {p.high:g}")
            raise ParamError(f"{p.name} must hold values {span}, not {v:g}")
    return values
