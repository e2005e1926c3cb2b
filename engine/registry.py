"""Plugin registry: decorator registration (like timm), entry-point discovery (like napari).

Built-ins in ``plugins/`` register through the same entry-point group as third-party
packages (``pretext.plugins``); ``<home>/plugins/*.py`` files are loaded too once the user
trusted them (engine/plugin_trust.py; the rest are listed in ``untrusted()``). A plugin that
fails to import, or tries to take an id already registered by another source (a built-in's
``simclr``), is recorded in ``failures()`` with its reason and skipped.

This module never imports torch; plugin modules do, when discovered.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import traceback
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path

from engine.capabilities import SampleKind, backbone_offers, method_needs, mismatch
from engine.params import Param, ParamError, defaults, resolve
from engine.runs.paths import RunPaths

KINDS = ("dataset", "backbone", "method")
GROUP = "pretext.plugins"
REQUIRED = ("id", "title", "summary", "citation", "params")
# Declarations each kind adds (BackboneBase and MethodPlugin provide them), so compatibility
# is read from the classes and never probed with hasattr on a built model.
DECLARED = {
    "dataset": (),
    "backbone": ("input_kind", "capabilities", "stage_names"),
    "method": ("input_kind", "requires", "required_capabilities", "needs_labels", "accuracy_key"),
}


@dataclass
class Entry:
    kind: str
    id: str
    cls: type
    source: str  # where it came from: "builtin", an entry point, or a file path

    @property
    def title(self) -> str:
        return self.cls.title

    @property
    def schema(self) -> list[Param]:
        return list(self.cls.params)

    def describe(self) -> dict:
        out = {
            "kind": self.kind, "id": self.id, "title": self.cls.title,
            "summary": self.cls.summary, "citation": self.cls.citation,
            "source": self.source, "params": [p.to_json() for p in self.schema],
        }
        if self.kind == "backbone":
            out["input_kind"] = SampleKind(self.cls.input_kind).value
            out["capabilities"] = sorted(c.value for c in backbone_offers(self.cls))
        elif self.kind == "method":
            out["input_kind"] = SampleKind(self.cls.input_kind).value
            out["needs_labels"] = bool(self.cls.needs_labels)
            out["requires"] = sorted(c.value for c in method_needs(self.cls, defaults(self.schema)))
        return out


@dataclass
class Failure:
    source: str
    reason: str
    detail: str = field(default="", repr=False)


_entries: dict[str, dict[str, Entry]] = {k: {} for k in KINDS}
_failures: list[Failure] = []
_untrusted: list = []  # engine.plugin_trust.Untrusted: home files skipped until trusted
_loading_source = threading.local()
_discovered_homes: set = set()
_lock = threading.RLock()


def _register(kind: str):
    def decorator(cls):
        missing = [a for a in REQUIRED + DECLARED[kind] if not hasattr(cls, a)]
        if missing:
            raise TypeError(f"{kind} plugin {cls.__name__} lacks {', '.join(missing)}")
        source = getattr(_loading_source, "value", None) or cls.__module__
        taken = _entries[kind].get(cls.id)
        if taken is not None and taken.source != source and not taken.source.endswith(".py"):
            # a built-in or installed id: runs recorded as simclr must run SimCLR
            raise TypeError(f"{kind} id {cls.id!r} is already taken by {taken.source}; a plugin cannot replace it")
        _entries[kind][cls.id] = Entry(kind, cls.id, cls, source)
        return cls
    return decorator


register_dataset = _register("dataset")
register_backbone = _register("backbone")
register_method = _register("method")


def _load(source: str, loader) -> None:
    _loading_source.value = source
    try:
        loader()
    except Exception as exc:  # a broken plugin is reported and skipped
        reason = f"{type(exc).__name__}: {exc}"
        _failures.append(Failure(source, reason, traceback.format_exc()))
    finally:
        _loading_source.value = None


def _load_file(path: Path) -> None:
    name = f"pretext_user_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def discover(home: Path | None = None) -> None:
    """Load built-ins, entry points and ``<home>/plugins/*.py`` once per home."""
    with _lock:
        key = str(home) if home else ""
        if key in _discovered_homes:
            return
        if not _discovered_homes:
            names = set()
            for ep in entry_points(group=GROUP):
                names.add(ep.value.split(":")[0])
                _load(f"entry point {ep.name} ({ep.value})", ep.load)
            if "plugins" not in names:  # running from a checkout that was not pip-installed
                _load("builtin", lambda: importlib.import_module("plugins"))
        if home is not None:
            from engine import plugin_trust

            folder = RunPaths(home).plugins
            _untrusted[:] = [u for u in _untrusted if u.path.parent != folder]  # this look is the news
            for path in sorted(folder.glob("*.py")) if folder.is_dir() else []:
                refused = plugin_trust.check(home, path)
                if refused is not None:
                    _untrusted.append(refused)
                    continue
                _load(str(path), lambda p=path: _load_file(p))
        _discovered_homes.add(key)


def is_discovered() -> bool:
    """Whether the plugins are loaded; never loads them (a GUI thread must not import torch)."""
    return bool(_discovered_homes)


def _ensure_discovered() -> None:
    if not _discovered_homes:
        discover()


def entries(kind: str) -> list[Entry]:
    _ensure_discovered()
    return sorted(_entries[kind].values(), key=lambda e: e.id)


def get(kind: str, plugin_id: str) -> Entry:
    _ensure_discovered()
    try:
        return _entries[kind][plugin_id]
    except KeyError:
        known = ", ".join(sorted(_entries[kind])) or "none"
        # a plugin that failed to import may be the one asked for: say so, not just "unknown"
        broken = "; ".join(f"{f.source} failed to load ({f.reason})" for f in _failures)
        raise ParamError(f"unknown {kind} {plugin_id!r} (known: {known})"
                         + (f"; {broken}" if broken else "")) from None


def failures() -> list[Failure]:
    return list(_failures)


def untrusted(home: Path | None = None) -> list:
    """Home plugin files skipped because the user has not trusted them (as they are now);
    with ``home``, only that home's (one process may have looked at several homes)."""
    if home is None:
        return list(_untrusted)
    folder = RunPaths(home).plugins
    return [u for u in _untrusted if u.path.parent == folder]


def resolve_params(kind: str, plugin_id: str, values: dict | None) -> dict:
    """The plugin's defaults overlaid with ``values``, validated against its schema."""
    return resolve(get(kind, plugin_id).schema, values, owner=f"{kind} {plugin_id}")


def create_dataset(plugin_id: str, params: dict | None = None, cache_dir: Path | None = None):
    entry = get("dataset", plugin_id)
    return entry.cls(cache_dir=cache_dir, **resolve_params("dataset", plugin_id, params))


def create_backbone(plugin_id: str, params: dict | None = None, image_size: int = 32):
    entry = get("backbone", plugin_id)
    return entry.cls(image_size=image_size, **resolve_params("backbone", plugin_id, params))


def create_method(plugin_id: str, backbone, params: dict | None = None, image_size: int = 32,
                  num_classes: int | None = None):
    entry = get("method", plugin_id)
    return entry.cls(backbone=backbone, image_size=image_size, num_classes=num_classes,
                     **resolve_params("method", plugin_id, params))


def compatibility_error(method_id: str, backbone_id: str, method_params: dict | None = None) -> str | None:
    """One sentence saying why method ``method_id`` (with ``method_params``, resolved values;
    its defaults when None) cannot train backbone ``backbone_id``, naming the backbones that
    would do; None when it can. Reads the classes' declarations only: no model, no torch."""
    method, backbone = get("method", method_id), get("backbone", backbone_id)
    params = defaults(method.schema) if method_params is None else method_params
    why = mismatch(method.cls, backbone.cls, params)
    if why is None:
        return None
    fits = [e.id for e in entries("backbone") if mismatch(method.cls, e.cls, params) is None]
    choice = f"; choose {' or '.join(fits)}" if fits else ""
    return f"method {method_id} cannot train backbone {backbone_id}, which {why}{choice}"
