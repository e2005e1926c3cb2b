"""Consent for home-folder plugins (DESIGN.md, "Plugins"): a ``<home>/plugins/*.py`` file is
code that runs in every command and worker, so it loads only once the user trusted it.

Trust is by content: ``<home>/trusted_plugins.json`` maps each trusted file's name to the
SHA-256 of the bytes the user approved, so a file that changes afterwards is untrusted again
until approved anew (``python main.py plugins trust FILE``, or the GUI's prompt). Entry-point
plugins are installed packages: trusted as installed code, never listed here.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from engine.runs.paths import RunPaths
from engine.store.schema import StoreError


@dataclass(frozen=True)
class Untrusted:
    path: Path
    sha256: str
    changed: bool  # trusted once, edited since

    def line(self) -> str:
        """The one line a command prints for a skipped file."""
        what = "changed since it was trusted" if self.changed else "not trusted yet"
        return f"skipped plugin {self.path} ({what}); to load it: python main.py plugins trust {self.path}"


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _ledger(home: Path) -> Path:
    return RunPaths(home).home / "trusted_plugins.json"


def trusted(home: Path) -> dict[str, str]:
    """File name -> approved SHA-256 (an unreadable ledger trusts nothing)."""
    try:
        data = json.loads(_ledger(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def check(home: Path, path: Path) -> Untrusted | None:
    """None when ``path`` may load; else why not."""
    approved = trusted(home).get(Path(path).name)
    sha = digest(path)
    return None if approved == sha else Untrusted(Path(path), sha, approved is not None)


def trust(home: Path, file: Path | str) -> str:
    """Approve ``file`` (in ``<home>/plugins/``) as it is now; returns its SHA-256."""
    folder = RunPaths(home).plugins.resolve()
    path = Path(file).expanduser()
    if not path.is_absolute() and not path.exists():
        path = folder / path
    path = path.resolve()
    if path.parent != folder or path.suffix != ".py" or not path.is_file():
        raise StoreError(f"{file} is not a plugin file in {folder}; only <home>/plugins/*.py files are trusted")
    sha = digest(path)
    ledger = trusted(home) | {path.name: sha}
    target = _ledger(home)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    tmp.write_text(json.dumps(ledger, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, target)
    return sha
