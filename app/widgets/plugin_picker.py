"""A combo box over one kind of registered plugin, with its title, summary and citation."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QLabel, QVBoxLayout, QWidget


class PluginPicker(QWidget):
    changed = Signal(str)  # the chosen plugin id

    def __init__(self, kind: str, parent=None):
        super().__init__(parent)
        self.kind = kind
        self.combo = QComboBox()
        self.combo.setObjectName(f"picker_{kind}")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.citation = QLabel()
        self.citation.setWordWrap(True)
        self.citation.setProperty("role", "muted")
        self.citation.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addWidget(self.summary)
        layout.addWidget(self.citation)
        self.entries: dict = {}
        self.combo.currentIndexChanged.connect(self._picked)

    def set_entries(self, entries, current: str | None = None) -> None:
        """entries: ``engine.registry.Entry`` objects of this kind."""
        self.entries = {e.id: e for e in entries}
        self.combo.blockSignals(True)
        self.combo.clear()
        for e in entries:
            self.combo.addItem(f"{e.title}  ({e.id})", e.id)
        index = self.combo.findData(current) if current else -1
        self.combo.setCurrentIndex(index if index >= 0 else 0)
        self.combo.blockSignals(False)
        self._picked()

    def current_id(self) -> str:
        return self.combo.currentData() or ""

    def set_current(self, plugin_id: str) -> bool:
        index = self.combo.findData(plugin_id)
        if index < 0:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def _picked(self, *_):
        entry = self.entries.get(self.current_id())
        if entry is None:
            self.summary.setText("")
            self.citation.setText("")
            return
        self.summary.setText(entry.cls.summary)
        self.citation.setText(f"<i>{entry.cls.citation}</i>")
        self.combo.setToolTip(entry.cls.summary)
        self.changed.emit(entry.id)
