"""Nearest neighbours side by side: query test images down the left, and for each run
(random init included) its top-k most similar train images by cosine similarity of frozen
features (the ``retrieval`` protocol's artifact; Wu et al., 2018). A neighbour of the
query's class is framed in the theme's "ok" colour, another class in its "error" colour."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
)

from app import theme
from app.plots.plot_export import save_widget
from app.widgets.artifact_grid import ArtifactGrid
from app.widgets.image_convert import to_pixmap
from engine.evaluation.artifacts import (
    ArtifactError,
    NeighbourImages,
    neighbours_with_images,
)

QUERIES = 6
TOP = 8
CELL = 36


class NeighbourGrid(ArtifactGrid):
    def __init__(self, home: Path, parent=None):
        super().__init__(home, "neighbour_canvas", 3, "Evaluate with the Retrieval protocol to see nearest neighbours.", parent)
        self.retrievals: list[tuple[str, dict]] = []
        self.loaded: NeighbourImages | None = None
        self.job.done.connect(self._loaded)
        # a missing or damaged artifact is the user's to fix: its sentence is shown in place
        self.job.error.connect(lambda message: self._loaded(None, f"could not load the neighbours: {message}"))
        mgr = theme.manager()
        if mgr is not None:
            mgr.changed.connect(lambda *_: self._draw())

    def set_retrievals(self, retrievals: list[tuple[str, dict]]) -> None:
        """retrievals: (run label, latest ``retrieval`` eval row) per run; reloads on change."""
        if [(k, v["id"]) for k, v in retrievals] == [(k, v["id"]) for k, v in self.retrievals]:
            return
        self.retrievals = list(retrievals)
        if not retrievals:
            self.loaded = None
            self._draw()
            return
        self.status.setText("loading the neighbours…")
        home, wanted = self.home, list(retrievals)
        self.job.submit(lambda: neighbours_with_images(home, wanted, QUERIES, TOP), sentences=(ArtifactError,))

    def _loaded(self, result: NeighbourImages | None, problem: str = "") -> None:
        self.loaded = result
        self.status.setText(problem or f"{len(result.queries)} test queries and their {TOP} nearest train "
                                       f"images per run; frame: same class (ok) or another class (error)")
        self._draw()

    def _clear(self) -> None:
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().hide()  # deleted later: until then it must not show under the new cells
                item.widget().deleteLater()

    def _cell(self, image, border: str | None = None) -> QLabel:
        label = QLabel()
        label.setPixmap(to_pixmap(image, CELL))
        label.setFixedSize(CELL + 6, CELL + 6)
        label.setAlignment(Qt.AlignCenter)
        label.setStyleSheet(f"border: 2px solid {border};" if border else "border: 2px solid transparent;")
        return label

    def _draw(self) -> None:
        self._clear()
        data = self.loaded
        if not data or not data.runs:
            self.canvas.adjustSize()
            return
        c = theme.colors()
        self.canvas.setStyleSheet(f"#neighbour_canvas {{ background: {c.base}; }}")
        self.grid.addWidget(self._title("query"), 0, 0)
        for r, run in enumerate(data.runs):
            self.grid.addWidget(self._title(run.label), 0, 2 + r * (TOP + 1), 1, TOP)
        for q, image in enumerate(data.queries):
            cell = self._cell(image)
            cell.setToolTip(data.query_classes[q])
            self.grid.addWidget(cell, q + 1, 0)
            for r, run in enumerate(data.runs):
                for k in range(run.images.shape[1]):
                    self.grid.addWidget(self._cell(run.images[q, k], c.ok if run.same_class[q, k] else c.error),
                                        q + 1, 2 + r * (TOP + 1) + k)
        for r in range(len(data.runs)):  # a gap between the query and each run's block
            self.grid.setColumnMinimumWidth(1 + r * (TOP + 1), 14)
        self.canvas.adjustSize()

    @staticmethod
    def _title(text: str) -> QLabel:
        label = QLabel(text)
        label.setProperty("role", "title")
        label.setAlignment(Qt.AlignLeft | Qt.AlignBottom)
        return label

    def image_count(self) -> int:
        runs = self.loaded.runs if self.loaded else []
        return sum(run.images.shape[0] * run.images.shape[1] for run in runs)

    def save(self, path) -> list:
        return save_widget(self.canvas, path)
