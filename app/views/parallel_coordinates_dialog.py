"""The runs browser's parallel-coordinates window: the runs shown (after the filter) across
the parameters that differ between them and the chosen metrics, coloured by the last metric;
export as PNG and SVG."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QFileDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.plots.parallel_coordinates import ParallelCoordinates
from engine.metric_labels import metric_title
from engine.store.parallel_axes import parallel_axes
from engine.store.run_record import Run

DEFAULT_METRICS = ("knn_acc", "loss")


class ParallelCoordinatesDialog(QDialog):
    def __init__(self, runs: list[Run], metrics: list[str], figures: dict | None = None, parent=None):
        """``metrics``: logged metric keys to draw; ``figures``: run id -> {evaluation figure:
        value} (``engine.sweeps.scaling.evaluation_figures``), drawn too, the first one the colour."""
        super().__init__(parent)
        self.setObjectName("parallel_coordinates_dialog")
        self.setWindowTitle(f"Parallel coordinates of {len(runs)} runs")
        self.runs, self.figures = runs, figures or {}
        names = sorted({name for values in self.figures.values() for name in values})
        self.metrics = list(dict.fromkeys([*names, *metrics, *DEFAULT_METRICS]))
        self.colour_by = QComboBox()
        self.colour_by.setObjectName("parallel_colour_by")
        for key in self.metrics:
            self.colour_by.addItem(key if key in names else metric_title(key), key)
        self.colour_by.currentIndexChanged.connect(lambda _: self.redraw())
        self.plot = ParallelCoordinates()
        self.summary = QLabel()
        self.summary.setObjectName("parallel_summary")
        save = QPushButton("Export PNG / SVG…")
        save.clicked.connect(self.export)
        top = QHBoxLayout()
        top.addWidget(QLabel("Colour by (the last axis):"))
        top.addWidget(self.colour_by)
        top.addStretch(1)
        top.addWidget(save)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        self.resize(1000, 520)
        self.redraw()

    def redraw(self) -> None:
        last = self.colour_by.currentData()
        view = parallel_axes(self.runs, [m for m in self.metrics if m != last] + [last], self.figures)
        self.plot.show_axes(view)
        shown = [a.field for a in view.axes]
        if not shown:
            self.summary.setText("Nothing to draw: these runs share every parameter and have no metric yet.")
            return
        colour = ("dark blue: low, yellow: high; grey: not logged" if shown[-1] == last else
                  f"no run has {last}, so lines are coloured by {shown[-1]}")
        self.summary.setText(f"{self.plot.runs_drawn} runs on {len(shown)} axes "
                             f"({len(shown) - sum(1 for f in shown if f in self.metrics)} parameters that "
                             f"differ between them); colour: {colour}.")

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export parallel coordinates", "parallel-coordinates.png",
                                              "PNG and SVG (*.png)")
        if path:
            self.plot.save(path)
