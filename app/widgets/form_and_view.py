"""The layout the New run and Evaluate views share: a settings form on the left that scrolls
vertically only (so its fields never hide behind a horizontal scroll bar), and what the
settings produce on the right, which takes the extra width when the window grows."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QSplitter, QWidget


def vertical_scroll(form: QWidget, min_width: int) -> QScrollArea:
    """``form`` in a scroll area at least ``min_width`` px wide that scrolls vertically only."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(form)
    scroll.setMinimumWidth(min_width)
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
    return scroll


def form_and_view(form: QWidget, view: QWidget, sizes: tuple[int, int]) -> QSplitter:
    """A horizontal splitter of ``form`` and ``view``, opened at ``sizes`` px; ``view`` takes
    the width the window gains."""
    splitter = QSplitter(Qt.Horizontal)
    splitter.addWidget(form)
    splitter.addWidget(view)
    splitter.setStretchFactor(1, 1)
    splitter.setSizes(list(sizes))
    return splitter
