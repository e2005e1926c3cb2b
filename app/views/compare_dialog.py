"""Configs of several runs side by side; only the keys that differ unless "show all"."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app import theme
from engine.store.run_record import Run


def flatten(config: dict) -> dict:
    """{"method": {"id": "simclr", "params": {"temperature": 0.5}}} -> {"method": "simclr",
    "method.temperature": 0.5}; the training settings become "train.<name>"."""
    out = {}
    for section, value in config.items():
        if isinstance(value, dict) and "id" in value:
            out[section] = value["id"]
            for k, v in (value.get("params") or {}).items():
                out[f"{section}.{k}"] = v
        elif isinstance(value, dict):
            for k, v in value.items():
                out[f"{section}.{k}"] = v
        else:
            out[section] = value
    return out


def config_rows(runs: list[Run], show_all: bool) -> list[tuple[str, list]]:
    """(key, [value per run]) in a stable order; only differing keys unless ``show_all``."""
    flats = [flatten(r.config) for r in runs]
    keys = []
    for f in flats:
        keys += [k for k in f if k not in keys]
    rows = []
    for key in keys:
        values = [f.get(key, "—") for f in flats]
        if show_all or any(v != values[0] for v in values[1:]):
            rows.append((key, values))
    return rows


class CompareDialog(QDialog):
    def __init__(self, runs: list[Run], parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Compare {len(runs)} runs")
        self.runs = runs
        self.show_all = QCheckBox("show all keys (not only those that differ)")
        self.show_all.setObjectName("show_all")
        self.show_all.toggled.connect(self.fill)
        self.note = QLabel()
        self.note.setProperty("role", "muted")
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.show_all)
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(240 + 180 * len(runs), 480)
        self.fill()

    def fill(self, *_):
        rows = config_rows(self.runs, self.show_all.isChecked())
        self.table.clear()
        self.table.setColumnCount(len(self.runs))
        self.table.setRowCount(len(rows))
        self.table.setHorizontalHeaderLabels([f"{r.name}\n{r.id}" for r in self.runs])
        self.table.setVerticalHeaderLabels([k for k, _ in rows])
        highlight = QColor(theme.colors().highlight)
        highlight.setAlpha(40)
        for i, (_, values) in enumerate(rows):
            differs = any(v != values[0] for v in values[1:])
            for j, value in enumerate(values):
                item = QTableWidgetItem(str(value))
                item.setTextAlignment(Qt.AlignLeft | Qt.AlignVCenter)
                if differs:
                    item.setBackground(highlight)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        differing = sum(1 for _, v in rows if any(x != v[0] for x in v[1:]))
        self.note.setText(f"{differing} setting(s) differ" if rows or not self.show_all.isChecked() else "")
        if not rows:
            self.note.setText("The configurations are identical.")

    def row_keys(self) -> list[str]:
        return [self.table.verticalHeaderItem(i).text() for i in range(self.table.rowCount())]
