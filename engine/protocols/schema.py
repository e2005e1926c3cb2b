"""Parameter helpers shared by the protocols: comma-separated number lists (grids, k values)."""
from __future__ import annotations

from engine.params import Param, ParamError


def number_list(text, kind=float, name: str = "value") -> list:
    """``"0.1, 1,10"`` or ``["0.1", "1"]`` -> ``[0.1, 1.0, ...]`` (items converted by ``kind``)."""
    items = text if isinstance(text, (list, tuple)) else [t for t in str(text).split(",") if t.strip()]
    try:
        values = [kind(str(t).strip()) for t in items]
    except ValueError:
        raise ParamError(f"{name} must be a comma-separated list of numbers, got {text!r}") from None
    if not values:
        raise ParamError(f"{name} needs at least one value")
    return values


def seed_param() -> Param:
    return Param("seed", "int", 0, "seed of every random choice the protocol makes", 0, 2**31 - 1)
