"""The scaling plot: a metric against a sweep axis, one curve per value of a second axis, each
point the mean over seeds with a ± s.d. error bar, and the random-initialisation reference as
a dashed horizontal line (the figures of Goyal, Mahajan, Gupta & Misra, 2019). The x axis is
logarithmic when the values span more than 10x; a non-numeric axis (plugin ids) is drawn at
evenly spaced ticks. Draws an ``engine.sweeps.scaling.Scaling``; computes nothing."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt

from app import theme
from app.plots.plot_style import ThemedPlot


class ScalingPlot(ThemedPlot):
    def __init__(self, parent=None):
        super().__init__("Scaling", "axis", "metric", parent, legend_offset=(10, 10))
        self.setObjectName("scaling_plot")
        self.data = None
        self.curve_items: list = []   # (PlotDataItem, ErrorBarItem) per curve, for tests and export
        self.reference_line = None

    def show_scaling(self, data) -> None:
        """Draw ``data`` (a Scaling, or None to clear); unchanged data is not drawn again (the view
        refreshes every few seconds, and every pyqtgraph item made costs -- see docs/sweeps.md)."""
        if data == self.data and self.curve_items:
            return
        self.data = data
        self.redraw()

    def _x(self, value, ticks: dict) -> float:
        """Where ``value`` goes on the x axis: log10 of it on a log axis (pyqtgraph's log mode
        would not move the error bars), an index for text, else itself; ``ticks`` collects
        the labels of a log or text axis."""
        if self.data.numeric_x and not self.data.log_x:
            return float(value)
        x = math.log10(value) if self.data.numeric_x else float(len(ticks))
        ticks.setdefault(f"{value:g}" if self.data.numeric_x else str(value), x)
        return ticks[f"{value:g}" if self.data.numeric_x else str(value)]

    def redraw(self) -> None:
        self.reset()
        self.curve_items, self.reference_line = [], None
        item = self.getPlotItem()
        if self.data is None:
            return
        d = self.data
        self.title, self.x_label, self.y_label = f"{d.metric} vs {d.x_axis}", d.x_axis + (" (log scale)" if d.log_x else ""), d.metric
        self.apply_theme()
        ticks: dict[str, int] = {}
        for i, curve in enumerate(d.curves):
            xs = [self._x(p.x, ticks) for p in curve.points]
            means, sds = [p.mean for p in curve.points], [p.std for p in curve.points]
            color = self.color(i)
            line = item.plot(xs, means, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=7,
                             symbolBrush=color, symbolPen=color,
                             name=curve.label if d.group_axis else d.metric)
            bars = pg.ErrorBarItem(x=np.array(xs), y=np.array(means), height=2 * np.array(sds),
                                   beam=0.04 if d.log_x else 0.0, pen=pg.mkPen(color))
            item.addItem(bars)
            self.curve_items.append((line, bars))
        if d.reference is not None:
            pen = pg.mkPen(theme.colors().plot_fg, width=1, style=Qt.DashLine)
            self.reference_line = pg.InfiniteLine(pos=d.reference, angle=0, pen=pen, label="random init",
                                                  labelOpts={"position": 0.05, "color": theme.colors().plot_fg})
            item.addItem(self.reference_line)
            self.legend.addItem(pg.PlotDataItem(pen=pen), "random init")
        axis = item.getAxis("bottom")
        axis.setTicks([[(v, k) for k, v in ticks.items()]] if ticks else None)
