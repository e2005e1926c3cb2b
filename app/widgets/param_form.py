"""A form generated from a plugin's parameter schema (``engine.params.Param``) alone.

int and float -> a number field that keeps what was typed and is checked against the
schema's range as one types (a line edit when a float spans orders of magnitude, ``log``, or
is optional); bool -> check box; choice ->
combo box; path/dir -> line edit with a Browse button; str and list -> line edit.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.theme import mark_invalid
from app.widgets.number_edit import FocusedWheelOnly, NumberEdit
from engine.params import Param, ParamError

INT_MIN, INT_MAX = -(2**31), 2**31 - 1


def _float_decimals(p: Param) -> int:
    """Enough decimals to show the default and the lower bound exactly (at most 6)."""
    values = [abs(v) for v in (p.default, p.low) if isinstance(v, (int, float)) and v]
    smallest = min(values) if values else 1.0
    return max(2, min(6, 2 - int(math.floor(math.log10(smallest))))) if smallest < 1 else 3


class ParamForm(QWidget):
    """``values()`` gives {name: value} ready for ``engine.params.resolve``; ``changed``
    fires on every edit."""

    changed = Signal()

    def __init__(self, schema: list[Param], parent=None):
        super().__init__(parent)
        self.schema = list(schema)
        self.params = {p.name: p for p in self.schema}
        self.editors: dict[str, QWidget] = {}
        self._wheel_guard = FocusedWheelOnly(self)
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        for p in self.schema:
            editor, field = self._make_editor(p)
            if p.unit:  # "180" then "°" beside it: the value reads with its unit
                field = self._with_unit(field, p)
            editor.setObjectName(f"param_{p.name}")
            editor.setProperty("help_text", p.help)
            editor.setToolTip(p.help)
            label = QLabel(p.name.replace("_", " "))
            label.setToolTip(p.help)
            layout.addRow(label, field)
            self.editors[p.name] = editor
        if not self.schema:
            layout.addRow(QLabel("no parameters"))

    # --- building -------------------------------------------------------------------------
    def _make_editor(self, p: Param):
        if p.kind == "int" and not p.optional:
            w = NumberEdit(True, p.low, p.high, 1)
            w.setValue(int(p.default))
            w.textChanged.connect(self._line_edited)
            return w, w
        if p.kind == "float" and not p.optional and not p.log:
            decimals = _float_decimals(p)
            w = NumberEdit(False, p.low, p.high, 10 ** -(decimals - 1) if decimals > 2 else 0.1, decimals + 1)
            w.setValue(float(p.default))
            w.textChanged.connect(self._line_edited)
            return w, w
        if p.kind == "bool":
            w = QCheckBox()
            w.setChecked(bool(p.default))
            w.toggled.connect(self.changed)
            return w, w
        if p.kind == "choice":
            w = QComboBox()
            for choice in p.choices:
                w.addItem(str(choice), choice)
            w.setCurrentIndex(max(0, w.findText(str(p.default))))
            w.setFocusPolicy(Qt.StrongFocus)
            w.installEventFilter(self._wheel_guard)
            w.currentIndexChanged.connect(self.changed)
            return w, w
        w = QLineEdit(self._text(p, p.default))
        w.textChanged.connect(self._line_edited)
        if p.kind == "list" and p.choices:
            w.setPlaceholderText("comma-separated: " + ", ".join(p.choices))
        elif p.optional:
            w.setPlaceholderText("(none)")
        if p.kind not in ("path", "dir"):
            return w, w
        browse = QPushButton("Browse…")
        browse.setObjectName(f"browse_{p.name}")
        browse.clicked.connect(lambda: self._browse(p, w))
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(w, 1)
        row.addWidget(browse)
        return w, box

    @staticmethod
    def _with_unit(field: QWidget, p: Param) -> QWidget:
        unit = QLabel(p.unit)
        unit.setObjectName(f"unit_{p.name}")
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(field, 1)
        row.addWidget(unit)
        return box

    @staticmethod
    def _text(p: Param, value) -> str:
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return ", ".join(map(str, value))
        if isinstance(value, float):
            return f"{value:g}"
        return str(value)

    def _browse(self, p: Param, edit: QLineEdit):
        start = edit.text() or ""
        if p.kind == "dir":
            chosen = QFileDialog.getExistingDirectory(self, f"Choose {p.name}", start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, f"Choose {p.name}", start)
        if chosen:
            edit.setText(chosen)

    def _line_edited(self):
        """Check a typed value at once, so a bad number is marked while typing."""
        editor = self.sender()
        name = next(n for n, e in self.editors.items() if e is editor)
        try:
            self.params[name].parse(self.value(name))
            mark_invalid(editor, None)
        except ParamError as e:
            mark_invalid(editor, str(e))
        self.changed.emit()

    # --- values -----------------------------------------------------------------------------
    def value(self, name: str):
        w = self.editors[name]
        if isinstance(w, NumberEdit):
            return w.value()
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentData()
        return w.text()

    def values(self) -> dict:
        return {name: self.value(name) for name in self.editors}

    def set_values(self, values: dict) -> None:
        """Fill the form from a stored config; unknown keys are ignored."""
        for name, value in values.items():
            w, p = self.editors.get(name), self.params.get(name)
            if w is None:
                continue
            if isinstance(w, NumberEdit):
                w.setValue(value)
            elif isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findText(str(value))))
            else:
                w.setText(self._text(p, value))

    def field_errors(self) -> dict[str, str]:
        """Check every field on its own; mark the bad ones. {name: message}."""
        errors = {}
        for name, p in self.params.items():
            try:
                p.parse(self.value(name))
                mark_invalid(self.editors[name], None)
            except ParamError as e:
                errors[name] = str(e)
                mark_invalid(self.editors[name], str(e))
        return errors

    def mark(self, name: str, message: str | None) -> None:
        if name in self.editors:
            mark_invalid(self.editors[name], message)
