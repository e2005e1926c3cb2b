"""Edit a run's name, notes and tags."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
)

from engine.store.run_record import Run
from engine.store.run_tags import format_tags, parse_tags


class RunNotesDialog(QDialog):
    def __init__(self, run: Run, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Run {run.id}")
        self.name = QLineEdit(run.name)
        self.tags = QLineEdit(run.tags or "")
        self.tags.setPlaceholderText("comma-separated, e.g. baseline, sweep-3")
        self.notes = QPlainTextEdit(run.notes or "")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("name", self.name)
        form.addRow("tags", self.tags)
        form.addRow("notes", self.notes)
        form.addRow(buttons)
        self.resize(460, 300)

    def fields(self) -> dict:
        tags = format_tags(parse_tags(self.tags.text()))
        return {"name": self.name.text().strip() or self.name.placeholderText(), "tags": tags,
                "notes": self.notes.toPlainText().strip()}
