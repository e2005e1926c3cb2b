"""The Monitor's "System" group: one curve plot per system metric a run logs (``cpu_percent``,
``rss_mb``, and with a GPU ``gpu_util``, ``gpu_mem_mb``), titled and with units from
``engine.metric_labels``; a plot appears when its key's first row arrives, and the group stays
hidden while the run has none."""
from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout

from app.plots.curve_plot import CurvePlot
from engine.metric_labels import metric_label

SYSTEM_KEYS = ("cpu_percent", "rss_mb", "gpu_util", "gpu_mem_mb")


class SystemPlots(QGroupBox):
    def __init__(self, parent=None):
        super().__init__("System", parent)
        self.setObjectName("system_plots")
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(4, 4, 4, 4)
        self.plots: dict[str, CurvePlot] = {}
        self.x_mode, self.log_y = "step", False
        self.time_origin: float | None = None
        self.hide()

    def plot_for(self, key: str) -> CurvePlot:
        if key not in self.plots:
            label = metric_label(key)
            plot = CurvePlot(label.title, unit=label.unit)
            plot.setObjectName(f"system_{key}")
            plot.setMinimumHeight(140)
            plot.time_origin = self.time_origin
            plot.set_x_mode(self.x_mode)
            if self.log_y:
                plot.set_log_y(True)
            self.plots[key] = plot
            ordered = sorted(self.plots, key=SYSTEM_KEYS.index)  # always CPU, memory, GPU, GPU memory
            self.row.insertWidget(ordered.index(key), plot, 1)
            self.show()
        return self.plots[key]

    def last_step(self, key: str) -> float:
        plot = self.plots.get(key)
        return plot.series[key].last_step() if plot is not None and key in plot.series else float("-inf")

    def append(self, key: str, rows: list) -> None:
        """Rows (``step, epoch, time, value``) of system metric ``key``."""
        self.plot_for(key).append(key, [r["step"] for r in rows], [r["epoch"] for r in rows],
                                  [r["time"] for r in rows], [r["value"] for r in rows],
                                  color_index=SYSTEM_KEYS.index(key))

    def set_time_origin(self, origin: float | None) -> None:
        self.time_origin = origin
        for plot in self.plots.values():
            plot.time_origin = origin

    def clear(self) -> None:
        """No plot at all: the next run shows only the keys it logs."""
        for plot in self.plots.values():
            self.row.removeWidget(plot)
            plot.hide()
            plot.deleteLater()
        self.plots = {}
        self.hide()

    def set_x_mode(self, mode: str) -> None:
        self.x_mode = mode
        for plot in self.plots.values():
            plot.set_x_mode(mode)

    def set_log_y(self, on: bool) -> None:
        self.log_y = on
        for plot in self.plots.values():
            plot.set_log_y(on)
