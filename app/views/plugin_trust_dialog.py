"""Asks before home-folder plugins run: lists each untrusted ``<home>/plugins/*.py`` file by
its path (new, or changed since it was trusted) and trusts the ones the user ticks; they
load at the next start (engine/plugin_trust.py keeps the approved content hashes)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from engine.plugin_trust import trust


class PluginTrustDialog(QDialog):
    def __init__(self, home: Path, untrusted: list[tuple[str, bool]], parent=None):
        """``untrusted``: (path, changed) per skipped file."""
        super().__init__(parent)
        self.home = Path(home)
        self.setWindowTitle("Trust home plugins?")
        layout = QVBoxLayout(self)
        intro = QLabel("These plugin files in your Pretext home run code in every run and were skipped. "
                       "Trust only files you wrote or checked; they load at the next start.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.boxes: dict[str, QCheckBox] = {}
        for path, changed in untrusted:
            box = QCheckBox(f"{path}" + ("  (changed since you trusted it)" if changed else ""))
            box.setToolTip(path)
            self.boxes[path] = box
            layout.addWidget(box)
        buttons = QDialogButtonBox(Qt.Orientation.Horizontal, self)
        self.trust_button = buttons.addButton("Trust ticked files", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Skip", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.trust_ticked)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.trusted: list[str] = []

    def trust_ticked(self) -> None:
        for path, box in self.boxes.items():
            if box.isChecked():
                trust(self.home, path)
                self.trusted.append(path)
        self.accept()
