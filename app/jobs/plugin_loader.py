"""Loads the plugin registry (which imports torch) on a background thread after the window
is on screen, then detects the training device; the GUI stays responsive meanwhile."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThread, Signal


def describe_device() -> str:
    """"GPU: <name>, <memory> GB" or "CPU (<n> threads)"; imports torch."""
    import torch

    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        more = f" (+{torch.cuda.device_count() - 1} more)" if torch.cuda.device_count() > 1 else ""
        return f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GB{more}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "GPU: Apple MPS"
    n = torch.get_num_threads()
    return f"CPU ({n} thread{'s' if n != 1 else ''}), no GPU"


class PluginLoader(QThread):
    loaded = Signal(list)        # registry failures: [(source, reason)]
    untrusted = Signal(list)     # home plugin files skipped until trusted: [(path, changed)]
    device_found = Signal(str)

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)

    def run(self):
        from engine import registry

        try:
            registry.discover(self.home)
            failures = [(f.source, f.reason) for f in registry.failures()]
            skipped = [(str(u.path), u.changed) for u in registry.untrusted(self.home)]
        except Exception as exc:  # noqa: BLE001 -- the GUI must come up even if discovery breaks
            failures, skipped = [("registry", f"{type(exc).__name__}: {exc}")], []
        if skipped:
            self.untrusted.emit(skipped)
        self.loaded.emit(failures)
        try:
            self.device_found.emit(describe_device())
        except Exception as exc:  # noqa: BLE001
            self.device_found.emit(f"device unknown ({type(exc).__name__})")
