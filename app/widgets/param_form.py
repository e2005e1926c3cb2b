"""A form generated from a plugin's parameter schema (``engine.params.Param``) alone.

int -> spin box with the schema's range; float -> spin box, or a validated line edit when
the value spans orders of magnitude (``log``) or is optional; bool -> check box; choice ->
combo box; path/dir -> line edit with a Browse button; str and list -> line edit.
"""
from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from app.theme import mark_invalid
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
        layout = QFormLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        for p in self.schema:
            editor, field = self._make_editor(p)
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
            w = QSpinBox()
            w.setRange(int(max(p.low, INT_MIN)) if p.low is not None else INT_MIN,
                       int(min(p.high, INT_MAX)) if p.high is not None else INT_MAX)
            w.setValue(int(p.default))
            w.setKeyboardTracking(True)
            w.valueChanged.connect(self.changed)
            return w, w
        if p.kind == "float" and not p.optional and not p.log:
            w = QDoubleSpinBox()
            w.setDecimals(_float_decimals(p))
            w.setRange(p.low if p.low is not None else -1e12, p.high if p.high is not None else 1e12)
            w.setSingleStep(10 ** -(w.decimals() - 1) if w.decimals() > 2 else 0.1)
            w.setValue(float(p.default))
            w.valueChanged.connect(self.changed)
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
            self.params[name].parse(editor.text())
            mark_invalid(editor, None)
        except ParamError as e:
            mark_invalid(editor, str(e))
        self.changed.emit()

    # --- values -----------------------------------------------------------------------------
    def value(self, name: str):
        w = self.editors[name]
        if isinstance(w, QSpinBox):
            return w.value()
        if isinstance(w, QDoubleSpinBox):
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
            if isinstance(w, QSpinBox):
                w.setValue(int(value))
            elif isinstance(w, QDoubleSpinBox):
                w.setValue(float(value))
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
