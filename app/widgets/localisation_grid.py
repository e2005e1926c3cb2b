"""Where the sound comes from: each run's ``localisation`` maps (Arandjelovic & Zisserman,
2018, "Objects that Sound") drawn over the held-out frames they were computed on, one row per
run. A map is the cosine similarity of the clip's sound embedding with the frame's features
at every position; it is drawn as a colour-mapped overlay (dark blue = least similar in that
map, yellow = most) at ``ALPHA`` opacity, scaled smoothly to the frame. The maps and frames come
from the artifact through the engine's reader; this widget only paints them."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QLabel,
)

from app.plots.plot_export import save_widget
from app.widgets.artifact_grid import ArtifactGrid
from app.widgets.colour_ramp import ramp
from engine.evaluation.artifacts import (
    ArtifactError,
    LocalisationMaps,
    read_localisation,
)

CELL = 96
ALPHA = 0.55


def colour_map(values: np.ndarray) -> np.ndarray:
    """values: (h, w) any float -> (h, w, 4) uint8 RGBA over the ramp, alpha ``ALPHA``."""
    return ramp(values, ALPHA)


def overlay_pixmap(frame: np.ndarray, heat: np.ndarray, side: int = CELL) -> QPixmap:
    """frame: (H, W, 3) uint8, heat: (h, w) -> a ``side`` x ``side`` pixmap: the frame (its
    real pixels) with the colour-mapped map scaled smoothly over it."""
    frame = np.ascontiguousarray(frame)
    h, w, _ = frame.shape
    base = QImage(frame.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    rgba = np.ascontiguousarray(colour_map(heat))
    mh, mw, _ = rgba.shape
    top = QImage(rgba.data, mw, mh, 4 * mw, QImage.Format_RGBA8888).copy()
    out = QPixmap(side, side)
    out.fill(Qt.black)
    painter = QPainter(out)
    painter.drawImage(QRect(0, 0, side, side), base)
    painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
    painter.drawImage(QRect(0, 0, side, side), top)
    painter.end()
    return out


class LocalisationGrid(ArtifactGrid):
    def __init__(self, home: Path, parent=None):
        super().__init__(home, "localisation_canvas", 4, "Evaluate an audio-visual run (avid, or avc with distance fusion) with the "
                             "Sound localisation protocol to see where its sounds come from.", parent)
        self.rows: list[tuple[str, dict]] = []
        self.loaded: list[tuple[str, LocalisationMaps]] = []
        self.job.done.connect(self._loaded)
        self.job.error.connect(lambda message: self._failed(f"could not load the maps: {message}"))

    def set_maps(self, rows: list[tuple[str, dict]]) -> None:
        """rows: (run label, latest ``localisation`` eval row) per run; reloads on change."""
        if [(k, v["id"]) for k, v in rows] == [(k, v["id"]) for k, v in self.rows]:
            return
        self.rows = list(rows)
        if not rows:
            self._loaded([])
            return
        self.status.setText("loading the maps…")
        wanted = list(rows)
        self.job.submit(lambda: [(label, read_localisation(ev)) for label, ev in wanted], sentences=(ArtifactError,))

    def _failed(self, message: str) -> None:
        self.loaded = []
        self._draw()
        self.status.setText(message)

    def _loaded(self, result: list) -> None:
        self.loaded = result
        if result:
            self.status.setText("Held-out frames with the similarity of their own sound to every position "
                                "(blue: least, yellow: most similar in each map).")
        self._draw()

    def _draw(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        for r, (label, maps) in enumerate(self.loaded):
            title = QLabel(label)
            title.setProperty("role", "title")
            self.grid.addWidget(title, 2 * r, 0, 1, max(1, len(maps.frames)))
            for k, (frame, heat) in enumerate(zip(maps.frames, maps.maps)):
                cell = QLabel()
                cell.setObjectName("localisation_cell")
                cell.setPixmap(overlay_pixmap(frame, heat))
                cell.setToolTip(f"test clip {int(maps.indices[k])}, class {int(maps.labels[k])}; "
                                f"similarity {float(heat.min()):.2f} to {float(heat.max()):.2f}")
                self.grid.addWidget(cell, 2 * r + 1, k)
        self.canvas.adjustSize()

    def map_count(self) -> int:
        return sum(len(maps.maps) for _, maps in self.loaded)

    def save(self, path) -> list:
        return save_widget(self.canvas, path)
