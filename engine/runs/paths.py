"""Where Pretext keeps its experiment store, runs and caches (DESIGN.md, "Home folder").

``RunPaths(home)`` is the home's layout and ``RunPaths(home).run(run_id)`` a run's folder; no other
module spells a file name of the layout. Imports nothing heavy (the GUI reads it before torch).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path


def default_home() -> Path:
    """``PRETEXT_HOME``, else the platform's user data folder."""
    if os.environ.get("PRETEXT_HOME"):
        return Path(os.environ["PRETEXT_HOME"]).expanduser()
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "Pretext"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "Pretext"
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "pretext"


@dataclass(frozen=True)
class RunDir:
    """One run's folder, ``<home>/runs/<run_id>/``, and the files the engine keeps in it."""

    root: Path

    @classmethod
    def of(cls, folder: "RunDir | Path | str") -> "RunDir":
        """A RunDir for ``folder`` (callers outside a home, e.g. benchmarks, pass a bare folder)."""
        return folder if isinstance(folder, RunDir) else cls(Path(folder))

    @property
    def run_id(self) -> str:
        return self.root.name

    @property
    def config(self) -> Path:
        """The run's config as created (the store's copy is the one that counts)."""
        return self.root / "config.json"

    @property
    def log(self) -> Path:
        return self.root / "log.txt"

    @property
    def worker_out(self) -> Path:
        """The detached worker's stdout and stderr (its last words if it dies)."""
        return self.root / "worker.out"

    @property
    def eval_out(self) -> Path:
        """Output of the queue's automatic evaluation of the run (engine/sweeps/auto_eval.py)."""
        return self.root / "auto_eval.out"

    @property
    def checkpoints(self) -> Path:
        return self.root / "checkpoints"

    @property
    def last_checkpoint(self) -> Path:
        """The one resumable checkpoint, replaced atomically after every epoch, pause and stop."""
        return self.checkpoints / "last.pt"

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"

    @property
    def backbone(self) -> Path:
        """The final backbone weights of a completed run."""
        return self.artifacts / "backbone.pt"

    def artifact(self, filename: str) -> Path:
        return self.artifacts / filename

    def create(self) -> "RunDir":
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        self.artifacts.mkdir(exist_ok=True)
        return self


@dataclass(frozen=True)
class RunPaths:
    """The layout of a Pretext home (DESIGN.md, "Home folder"): the one place that knows it."""

    home: Path

    def __post_init__(self):
        object.__setattr__(self, "home", Path(self.home))

    @property
    def store(self) -> Path:
        return self.home / "experiments.db"

    @property
    def runs(self) -> Path:
        return self.home / "runs"

    @property
    def cache(self) -> Path:
        """Decoded datasets and frozen features (rebuildable)."""
        return self.home / "cache"

    @property
    def features(self) -> Path:
        """Frozen-feature caches, one ``<run_id>-<key>-<split>.npz`` per evaluation input."""
        return self.cache / "features"

    def run_caches(self, run_id: str) -> list[Path]:
        """The cache files that belong to run ``run_id`` alone (deleted with it)."""
        return sorted(self.features.glob(f"{run_id}-*")) if self.features.is_dir() else []

    @property
    def queue_log(self) -> Path:
        """Output of the queue schedulers started in the background (engine/runs/queue.py)."""
        return self.home / "queue.log"

    @property
    def plugins(self) -> Path:
        """User plugins, loaded only once trusted."""
        return self.home / "plugins"

    def run(self, run_id: str) -> RunDir:
        return RunDir(self.runs / run_id)
