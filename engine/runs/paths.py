"""Where Pretext keeps its experiment store, runs and caches (DESIGN.md, "Home folder")."""
from __future__ import annotations

import os
import sys
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
