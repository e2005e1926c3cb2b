"""The frame the Evaluate view's artifact tabs share: a status line over a scrolled grid whose
canvas keeps its full size, filled by a background load (LatestJob) of a stored artifact."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.jobs.background_job import LatestJob


class ArtifactGrid(QWidget):
    def __init__(self, home: Path, canvas_name: str, spacing: int, hint: str, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.canvas = QWidget()
        self.canvas.setObjectName(canvas_name)
        self.grid = QGridLayout(self.canvas)
        # the canvas always takes the grid's full size; the scroll area scrolls it, never squeezes it
        self.grid.setSizeConstraint(QLayout.SetFixedSize)
        self.grid.setSpacing(spacing)
        self.grid.setContentsMargins(8, 8, 8, 8)
        scroll = QScrollArea()
        scroll.setWidget(self.canvas)
        scroll.setWidgetResizable(False)
        self.status = QLabel(hint)
        self.status.setProperty("role", "muted")
        self.status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(scroll, 1)
        self.job = LatestJob(self)
