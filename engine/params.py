"""Typed parameter schemas: the single description from which the GUI builds its forms
and the CLI validates ``--set key=value``.

Nothing here imports torch or Qt, so the GUI can read schemas before torch is loaded.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

KINDS = ("int", "float", "bool", "str", "choice", "path", "dir", "list")


def _shown(path) -> str:
    """A path as a message shows it: quoted where it holds a newline or another control
    character, so that the message stays one line."""
    text = str(path)
    return text if text.isprintable() else repr(text)


class ParamError(ValueError):
    """A parameter value that cannot be accepted; the message is one readable sentence."""


@dataclass(frozen=True)
class Param:
    """One parameter of a plugin.

    kind: one of ``int, float, bool, str, choice, path, dir, list`` (``list`` is a
    comma-separated list of strings). ``low``/``high`` bound numbers, ``choices`` bounds
    ``choice``. ``optional`` allows an empty value (None), e.g. an optional folder. ``unit``
    ("°", "px", "s") is shown after the value: forms put it beside the field.
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    optional: bool = False
    log: bool = False  # a hint for forms: the value spans orders of magnitude
    unit: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name!r}: unknown kind {self.kind!r}")

    def to_json(self) -> dict:
        d = asdict(self)
        d["choices"] = list(self.choices)
        return d

    def format(self, value: Any) -> str:
        """``value`` for reading, with the unit: 180.0 -> "180°", 32 -> "32 px", True -> "true"."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, (list, tuple)):
            return ", ".join(map(str, value))
        text = f"{value:g}" if isinstance(value, float) else str(value)
        if not self.unit:
            return text
        return f"{text}{self.unit}" if self.unit in ("°", "%") else f"{text} {self.unit}"

    def parse(self, value: Any) -> Any:
        """Turn ``value`` (a string from the CLI or a typed value from a form or JSON)
        into this parameter's type, or raise ParamError with one clear sentence."""
        if value is None or (isinstance(value, str) and value.strip() == "" and self.kind != "str"):
            if self.optional:
                return None
            raise ParamError(f"{self.name} needs a value")
        parse = getattr(self, f"_parse_{self.kind}")
        return parse(value)

    # --- one parser per kind -------------------------------------------------------
    def _bounds(self, v):
        if isinstance(v, float) and not math.isfinite(v):
            raise ParamError(f"{self.name} must be a finite number, not {v}")
        if self.low is not None and v < self.low:
            raise ParamError(f"{self.name} must be at least {self.low:g}, got {v:g}")
        if self.high is not None and v > self.high:
            raise ParamError(f"{self.name} must be at most {self.high:g}, got {v:g}")
        return v

    def _parse_int(self, value):
        if isinstance(value, bool):
            raise ParamError(f"{self.name} must be a whole number, not {value!r}")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise ParamError(f"{self.name} must be a whole number, not {value!r}") from None
        if not isinstance(value, int):
            raise ParamError(f"{self.name} must be a whole number, not {value!r}")
        return self._bounds(value)

    def _parse_float(self, value):
        if isinstance(value, bool):
            raise ParamError(f"{self.name} must be a number, not {value!r}")
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise ParamError(f"{self.name} must be a number, not {value!r}") from None
        if not isinstance(value, (int, float)):
            raise ParamError(f"{self.name} must be a number, not {value!r}")
        return self._bounds(float(value))

    def _parse_bool(self, value):
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ParamError(f"{self.name} must be true or false, not {value!r}")

    def _parse_str(self, value):
        if not isinstance(value, str):
            raise ParamError(f"{self.name} must be text, not {value!r}")
        return value

    def _parse_choice(self, value):
        text = str(value).strip() if not isinstance(value, (int, float)) else value
        for choice in self.choices:
            if choice == text or str(choice) == str(text):
                return choice
        raise ParamError(f"{self.name} must be one of {', '.join(map(str, self.choices))}; got {value!r}")

    def _parse_path(self, value):
        if not isinstance(value, (str, Path)):
            raise ParamError(f"{self.name} must be a path, not {value!r}")
        path = Path(str(value)).expanduser()
        if not path.exists():
            raise ParamError(f"{self.name}: {_shown(path)} does not exist")
        return str(path)

    def _parse_dir(self, value):
        path = self._parse_path(value)
        if not Path(path).is_dir():
            raise ParamError(f"{self.name}: {_shown(path)} is not a folder")
        return path

    def _parse_list(self, value):
        if isinstance(value, str):
            items = [v.strip() for v in value.split(",") if v.strip()]
        elif isinstance(value, (list, tuple)):
            items = [str(v).strip() for v in value]
        else:
            raise ParamError(f"{self.name} must be a comma-separated list, not {value!r}")
        if self.choices:
            bad = [v for v in items if v not in self.choices]
            if bad:
                raise ParamError(f"{self.name}: unknown {', '.join(bad)}; choose from {', '.join(self.choices)}")
        return items


def defaults(schema: Iterable[Param]) -> dict:
    return {p.name: p.default for p in schema}


def resolve(schema: Iterable[Param], values: dict | None, owner: str = "") -> dict:
    """Defaults overlaid with ``values``, each parsed and checked.

    Raises ParamError naming ``owner`` for an unknown key or a bad value."""
    schema = list(schema)
    by_name = {p.name: p for p in schema}
    values = dict(values or {})
    unknown = [k for k in values if k not in by_name]
    if unknown:
        where = f" for {owner}" if owner else ""
        known = ", ".join(sorted(by_name)) or "none"
        raise ParamError(f"unknown parameter {unknown[0]!r}{where} (known: {known})")
    out = {}
    for p in schema:
        raw = values.get(p.name, p.default)
        if p.name not in values and raw is None and p.optional:
            out[p.name] = None
            continue
        try:
            out[p.name] = p.parse(raw)
        except ParamError as e:
            raise ParamError(f"{owner}: {e}" if owner else str(e)) from None
    return out


def parse_assignments(items: Iterable[str]) -> dict:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; values stay strings for ``resolve``."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ParamError(f"--set expects key=value, got {item!r}")
        key, value = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ParamError(f"--set expects key=value, got {item!r}")
        out[key] = value
    return out


@dataclass
class Described:
    """What every plugin declares (DESIGN.md: id, title, summary, citation, schema)."""

    id: str
    title: str
    summary: str
    citation: str
    params: list = field(default_factory=list)
