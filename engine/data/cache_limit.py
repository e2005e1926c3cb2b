"""Keeping ``<home>/cache`` under a size limit by evicting what was used least recently.

Everything under the cache folder can be rebuilt, so it may be evicted: a decoded split
(``datasets/S.u8``, ``S.labels``, ``S.json`` together, engine.data.record_cache) and a
frozen-feature file (``features/*.npz``). The limit is a setting kept beside the cache
(``<home>/cache/limit.json``, ``{"max_bytes": N}``; no file means no limit), set from the
CLI (``python main.py cache --limit 20G``) or the GUI.

Last use is a unit's modification time, touched each time it is opened (``touch``):
access times are unreliable on ``relatime``/``noatime`` mounts. A split is never evicted
while it is being built (its journal exists) or while another process holds its build
lock; a process that has a split memory-mapped keeps reading it after eviction (POSIX
unlink semantics), and the next open rebuilds it. Lock files (empty) stay: removing a lock
file another process has open would let two builders in at once.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from engine.data.errors import DataError
from engine.data.record_cache import CacheFiles

try:  # POSIX; elsewhere a split being built by another process is recognised by its journal only
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

LIMIT_FILE = "limit.json"
_SPLIT_PARTS = (".u8", ".labels", ".json")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_UNIT = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


@dataclass(frozen=True)
class CacheUnit:
    """What is evicted together: ``paths`` (existing files), ``nbytes`` their size,
    ``last_used`` the newest modification time among them, ``kind`` dataset or features."""

    name: str
    kind: str
    paths: tuple[Path, ...]
    nbytes: int
    last_used: float
    split: CacheFiles | None = None  # for a dataset split: its file names (lock, journal)


def parse_size(text: str) -> int | None:
    """``"20G"``, ``"512 MB"``, ``"1.5t"`` -> bytes (binary units); ``"none"`` -> None."""
    if text.strip().lower() in ("none", "off", "unlimited"):
        return None
    m = _SIZE.match(text)
    if not m:
        raise DataError(f"{text!r} is not a size; write it like 20G, 512M or none")
    return int(float(m.group(1)) * _UNIT[m.group(2).lower()])


def read_limit(cache_root: Path) -> int | None:
    """The limit in bytes set for ``cache_root``, or None (no limit, or an unreadable file)."""
    try:
        value = json.loads((Path(cache_root) / LIMIT_FILE).read_text(encoding="utf-8")).get("max_bytes")
    except (OSError, ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, (int, float)) and value > 0 else None


def write_limit(cache_root: Path, max_bytes: int | None) -> None:
    from engine.data.record_cache import write_json

    root = Path(cache_root)
    root.mkdir(parents=True, exist_ok=True)
    if max_bytes is None:
        (root / LIMIT_FILE).unlink(missing_ok=True)
    else:
        write_json(root / LIMIT_FILE, {"max_bytes": int(max_bytes)})


def touch(path: Path) -> None:
    """Mark ``path`` used now (its modification time), for least-recently-used eviction."""
    try:
        os.utime(path)
    except OSError:  # read-only cache or file just evicted by another process: not fatal
        pass


def _unit(name: str, kind: str, paths: list[Path], split: CacheFiles | None = None) -> CacheUnit | None:
    stats = []
    for p in paths:
        try:
            stats.append((p, p.stat()))
        except OSError:
            continue
    if not stats:
        return None
    return CacheUnit(name, kind, tuple(p for p, _ in stats), sum(s.st_size for _, s in stats),
                     max(s.st_mtime for _, s in stats), split)


def cache_units(cache_root: Path) -> list[CacheUnit]:
    """Every evictable unit under ``cache_root``, least recently used first."""
    root = Path(cache_root)
    units: list[CacheUnit] = []
    datasets = root / "datasets"
    if datasets.is_dir():
        stems = {p.name[: -len(suffix)] for p in datasets.iterdir() for suffix in _SPLIT_PARTS
                 if p.name.endswith(suffix) and not p.name.endswith(".journal.json")}
        for stem in sorted(stems):
            files = CacheFiles(datasets / stem)
            u = _unit(stem, "dataset", [files.records, files.labels, files.header], files)
            if u:
                units.append(u)
    features = root / "features"
    if features.is_dir():
        for p in sorted(features.glob("*.npz")):
            if not p.name.startswith("."):  # .name.tmpPID.npz: a write in progress
                u = _unit(p.name, "features", [p])
                if u:
                    units.append(u)
    return sorted(units, key=lambda u: u.last_used)


def _evict(unit: CacheUnit) -> bool:
    """Delete ``unit`` unless it is in use for building; -> whether it was deleted."""
    files = unit.split
    if files is None:
        for p in unit.paths:
            p.unlink(missing_ok=True)
        return True
    if files.journal.exists():
        return False
    if fcntl is None or not files.lock.exists():
        for p in files.complete():
            p.unlink(missing_ok=True)
        return True
    with open(files.lock, "a+b") as f:
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # another process is building or checking it now
            return False
        try:
            for p in (files.header, files.records, files.labels):  # header first: no half-valid cache
                p.unlink(missing_ok=True)
            return True
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def enforce_limit(cache_root: Path, keep: tuple[Path, ...] = (), max_bytes: int | None = None) -> list[CacheUnit]:
    """Evict least-recently-used units until the cache fits its limit (``max_bytes``, else
    the stored setting); units holding any path in ``keep`` (the one just opened) stay.
    -> the units evicted."""
    limit = max_bytes if max_bytes is not None else read_limit(cache_root)
    if limit is None:
        return []
    keep_set = {Path(p) for p in keep}
    units = cache_units(cache_root)
    total = sum(u.nbytes for u in units)
    evicted = []
    for u in units:
        if total <= limit:
            break
        if keep_set.intersection(u.paths):
            continue
        if _evict(u):
            total -= u.nbytes
            evicted.append(u)
    return evicted
