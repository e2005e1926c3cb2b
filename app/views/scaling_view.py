"""Scaling: a sweep's metric against one of its axes, one curve per value of a second axis,
mean ± s.d. over seeds and the random-init reference (Goyal, Mahajan, Gupta & Misra, 2019).

The curves are computed by ``engine.sweeps.scaling.scaling_state`` on the thread pool, every few
seconds while the view is shown, so a running sweep's plot fills in as its runs are evaluated;
the view only draws them (app/plots/scaling_plot.py) and exports PNG, SVG and CSV."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.jobs.background_job import LatestJob
from app.plots.scaling_plot import ScalingPlot
from engine.store.database import StoreError

REFRESH_MS = 3000
NO_GROUP = "(one curve)"


def _combo(name: str, tip: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setToolTip(tip)
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(8)
    return combo


class ScalingView(QWidget):
    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.state = None
        self.picked: dict = {}   # combo -> what the user picked; until then the engine's default
        self.sweep = _combo("scaling_sweep", "the sweep to plot")
        self.metric_box = _combo("scaling_metric", "evaluation figures of the runs, or their final logged values")
        self.x_axis = _combo("scaling_x", "the axis along x (log scale when its values span more than 10x)")
        self.group = _combo("scaling_group", "one curve per value of this axis; the others are averaged (mean ± s.d.)")
        self.plot = ScalingPlot()
        self.progress = QLabel()
        self.progress.setProperty("role", "muted")
        self.export_figure = QPushButton("Save figure…")
        self.export_figure.setToolTip("PNG and SVG side by side")
        self.export_csv = QPushButton("Save CSV…")
        self.export_figure.clicked.connect(self._save_figure)
        self.export_csv.clicked.connect(self._save_csv)
        bar = QHBoxLayout()
        for label, combo in (("Sweep", self.sweep), ("Metric", self.metric_box), ("x", self.x_axis),
                             ("Curves by", self.group)):
            bar.addWidget(QLabel(label))
            bar.addWidget(combo, 1)
            combo.activated.connect(lambda _i, c=combo: self._picked(c))
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.export_figure)
        row.addWidget(self.export_csv)
        layout.addLayout(row)
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.job.error.connect(lambda message: self.progress.setText(message))
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    # --- reading ------------------------------------------------------------------------------------
    def show_sweep(self, sweep_id: int) -> None:
        self.picked = {self.sweep: sweep_id}
        self.refresh()

    def _picked(self, combo: QComboBox) -> None:
        if combo is self.sweep:  # another sweep: its own default metric and axes
            self.picked = {}
        self.picked[combo] = combo.currentData()
        self.refresh()

    def refresh(self) -> None:
        if self.job.running:
            return
        from engine.sweeps.scaling import scaling_state

        choice = tuple(self.picked.get(c) for c in (self.sweep, self.metric_box, self.x_axis, self.group))
        self.job.submit(lambda: scaling_state(self.home, *choice), sentences=(StoreError,))

    def _fill(self, combo: QComboBox, items: list[tuple[str, object]], current) -> None:
        combo.blockSignals(True)
        combo.clear()
        for text, data in items:
            combo.addItem(text, data)
        index = combo.findData(current)
        combo.setCurrentIndex(max(index, 0))
        combo.blockSignals(False)

    def _show(self, state) -> None:
        self.state = state
        data = state.scaling
        self._fill(self.sweep, [(f"{i}: {name}", i) for i, name in state.sweeps], state.sweep_id)
        self._fill(self.metric_box, [(m, m) for m in state.metrics], data.metric if data else None)
        self._fill(self.x_axis, [(a, a) for a in state.axes], data.x_axis if data else None)
        self._fill(self.group, [(NO_GROUP, None)] + [(a, a) for a in state.axes], data.group_axis if data else None)
        left_out = f"; {data.missing} runs not (yet) in the plot" if data and data.missing else ""
        self.progress.setText(state.progress + left_out)
        self.export_figure.setEnabled(data is not None)
        self.export_csv.setEnabled(data is not None)
        self.plot.show_scaling(data)

    # --- export ----------------------------------------------------------------------------------------
    def _suggested(self, suffix: str) -> str:
        return str(Path.home() / f"sweep{self.state.sweep_id}-scaling{suffix}")

    def _save_figure(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the figure (PNG and SVG)", self._suggested(".png"),
                                                "Images (*.png *.svg)")
        if chosen:
            self.save_figure(chosen)

    def save_figure(self, path) -> list[Path]:
        return self.plot.save(path)

    def _save_csv(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(self, "Save the curves as CSV", self._suggested(".csv"), "CSV (*.csv)")
        if chosen:
            self.save_csv(chosen)

    def save_csv(self, path) -> Path:
        from engine.store.atomic_file import write_text_atomic

        path = Path(path)
        write_text_atomic(path, self.state.scaling.csv_text())
        return path

    # --- visibility -----------------------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        self.refresh()
        self.timer.start()

    def hideEvent(self, event):
        super().hideEvent(event)
        self.timer.stop()

    def shutdown(self) -> None:
        self.timer.stop()
