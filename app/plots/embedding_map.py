"""The 2-D map of a run's test features (the ``embedding`` protocol's t-SNE/UMAP artifact,
van der Maaten & Hinton, 2008), one colour per class; hovering a point shows its image in
an inset. The images are read from the evaluation dataset's test split on a background
thread, so the map appears at once and the inset as soon as they are loaded."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.jobs.background_job import LatestJob
from app.plots.plot_style import ThemedPlot
from app.widgets.image_convert import to_pixmap
from engine.evaluation.artifacts import ArtifactError, MapImages, map_with_images

# Tableau 10: ten classes stay distinguishable on light and dark backgrounds
CLASS_COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
                "#9c755f", "#bab0ac")
INSET_SIDE = 96


def class_color(label: int, count: int) -> QColor:
    if count <= len(CLASS_COLORS):
        return QColor(CLASS_COLORS[label % len(CLASS_COLORS)])
    return pg.intColor(label, hues=count)


class EmbeddingMap(QWidget):
    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.maps: dict[str, dict] = {}   # run label -> embedding eval row
        self.loaded: MapImages | None = None
        self.hovered: int | None = None
        self.run_choice = QComboBox()
        self.run_choice.setObjectName("embedding_run")
        self.run_choice.currentIndexChanged.connect(self._load)
        self.plot = ThemedPlot("2-D map of the test features", "", "")
        self.plot.setObjectName("embedding_plot")
        self.plot.redraw = self._draw
        self.inset = QFrame(self.plot)  # floats over the plot's top-left corner
        self.inset.setObjectName("embedding_inset")
        self.inset.setStyleSheet("#embedding_inset { background: rgba(0,0,0,170); border-radius: 4px; }"
                                 " QLabel { color: white; }")
        self.inset_image, self.inset_caption = QLabel(), QLabel()
        self.inset_caption.setAlignment(Qt.AlignHCenter)
        inset_layout = QVBoxLayout(self.inset)
        inset_layout.setContentsMargins(6, 6, 6, 4)
        inset_layout.setSpacing(2)
        inset_layout.addWidget(self.inset_image)
        inset_layout.addWidget(self.inset_caption)
        self.inset.hide()
        self.status = QLabel("")
        self.status.setProperty("role", "muted")
        top = QHBoxLayout()
        top.addWidget(QLabel("run"))
        top.addWidget(self.run_choice, 1)
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        self.job = LatestJob(self)
        self.job.done.connect(self._loaded)
        # a missing or damaged artifact is the user's to fix: its sentence is shown in place
        self.job.error.connect(lambda message: self._loaded(None, f"could not load the map: {message}"))

    def set_maps(self, maps: list[tuple[str, dict]]) -> None:
        """maps: (run label, latest ``embedding`` eval row) per run; reloads only on change."""
        new = dict(maps)
        if {k: v["id"] for k, v in new.items()} == {k: v["id"] for k, v in self.maps.items()}:
            return
        current = self.run_choice.currentText()
        self.maps = new
        self.run_choice.blockSignals(True)
        self.run_choice.clear()
        self.run_choice.addItems(list(new))
        self.run_choice.setCurrentIndex(max(0, self.run_choice.findText(current)))
        self.run_choice.blockSignals(False)
        self._load()

    def _load(self) -> None:
        evaluation = self.maps.get(self.run_choice.currentText())
        if evaluation is None:
            self.loaded = None
            self._draw()
            return
        self.status.setText("loading the map and its images…")
        home = self.home
        self.job.submit(lambda: map_with_images(home, evaluation), sentences=(ArtifactError,))

    def _loaded(self, result: MapImages | None, problem: str = "") -> None:
        self.loaded = result
        self.status.setText(problem or f"{len(result.labels)} test images; hover a point to see it")
        self._draw()

    def _draw(self) -> None:
        plot = self.plot
        plot.reset()
        self.inset.hide()
        if self.loaded is None:
            return
        xy, labels, classes = self.loaded.xy, self.loaded.labels, self.loaded.classes
        count = max(len(classes), int(labels.max()) + 1 if len(labels) else 0)
        for c in np.unique(labels):
            idx = np.flatnonzero(labels == c)
            color = class_color(int(c), count)
            name = classes[c] if c < len(classes) else str(c)
            points = pg.ScatterPlotItem(x=xy[idx, 0], y=xy[idx, 1], data=idx, size=8, hoverable=True,
                                        brush=pg.mkBrush(color), pen=pg.mkPen(color.darker(140)),
                                        hoverSize=13, name=name)
            points.sigHovered.connect(self._hovered)
            plot.addItem(points)
        plot.getPlotItem().hideAxis("left")
        plot.getPlotItem().hideAxis("bottom")
        plot.getPlotItem().enableAutoRange()

    def _hovered(self, _item, points, _event) -> None:
        if len(points) == 0:
            return
        self.show_point(int(points[0].data()))

    def show_point(self, index: int) -> None:
        """Show image ``index`` of the map (and its class) in the inset."""
        self.hovered = index
        images = self.loaded.images if self.loaded else None
        if images is None:
            return
        label = int(self.loaded.labels[index])
        classes = self.loaded.classes
        name = classes[label] if label < len(classes) else str(label)
        self.inset_image.setPixmap(to_pixmap(images[index], INSET_SIDE))
        self.inset_caption.setText(name)
        self.inset.adjustSize()
        self.inset.move(12, 12)
        self.inset.show()
        self.inset.raise_()
        self.status.setText(f"point {index}: {name}")

    def save(self, path) -> list:
        return self.plot.save(path)
