"""A number field that keeps what was typed: a bad or out-of-range entry stays visible and is
marked by the form (like the learning-rate field), instead of a spin box silently dropping
the minus sign of "-5" or ignoring "abc". Up/Down keys step the value; the mouse wheel
steps it only while the field has focus, so scrolling a long form never edits it."""
from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QLineEdit


class NumberEdit(QLineEdit):
    def __init__(self, integer: bool, low: float | None, high: float | None, step: float, decimals: int = 6):
        super().__init__()
        self.integer, self.low, self.high, self.step, self.decimals = integer, low, high, step, decimals
        self.setFocusPolicy(Qt.StrongFocus)

    def minimum(self):
        return self.low

    def maximum(self):
        return self.high

    def setValue(self, value) -> None:  # noqa: N802 -- Qt's spelling, as QSpinBox has it
        self.setText(self.format(value))

    def format(self, value) -> str:
        if self.integer:
            return str(int(value))
        return f"{float(value):.{self.decimals}g}" if math.isfinite(float(value)) else str(value)

    def value(self):
        """The typed number, or the raw text when it is not one (the schema then names why)."""
        text = self.text().strip()
        try:
            number = float(text)
        except ValueError:
            return self.text()
        if self.integer:
            return int(number) if number.is_integer() else self.text()
        return number

    def _step_by(self, steps: int) -> None:
        current = self.value()
        if isinstance(current, str):
            return
        new = current + steps * self.step
        if self.low is not None:
            new = max(new, self.low)
        if self.high is not None:
            new = min(new, self.high)
        self.setValue(round(new, 12) if not self.integer else int(new))

    def keyPressEvent(self, event):  # noqa: N802
        if event.key() in (Qt.Key_Up, Qt.Key_Down):
            self._step_by(1 if event.key() == Qt.Key_Up else -1)
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event):  # noqa: N802
        if not self.hasFocus():
            event.ignore()  # the form's scroll area scrolls instead
            return
        self._step_by(1 if event.angleDelta().y() > 0 else -1)


class FocusedWheelOnly(QObject):
    """Event filter: a combo box (or any editor) takes wheel events only while focused."""

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.Wheel and not obj.hasFocus():
            event.ignore()
            return True
        return False
