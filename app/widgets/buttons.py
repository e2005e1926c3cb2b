"""Push buttons as the views make them: a label, an object name (what the tests and the
style sheet find it by), an optional tooltip and the slot a click calls."""
from __future__ import annotations

from PySide6.QtWidgets import QPushButton


def push_button(text: str, name: str, on_click, tooltip: str | None = None) -> QPushButton:
    """A ``QPushButton`` labelled ``text``, named ``name``, calling ``on_click`` when clicked."""
    button = QPushButton(text)
    button.setObjectName(name)
    if tooltip is not None:
        button.setToolTip(tooltip)
    button.clicked.connect(on_click)
    return button
