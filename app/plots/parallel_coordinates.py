"""Parallel coordinates of many runs (the runs browser's view; Optuna and TensorBoard's
HParams draw the same): one vertical axis per differing parameter and chosen metric, each run
a line across them, coloured by the last axis (a metric: dark blue low, yellow high).

The axes and every run's positions come from ``engine.store.parallel_axes``; this only draws
them. Lines are drawn as a few ``PlotDataItem``s, one per colour band, with NaN between runs
(``connect="finite"``), so 10,000 runs are ten items, not 10,000.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from app import theme
from app.plots.plot_style import ThemedPlot
from app.widgets.colour_ramp import ramp_absolute

BANDS = 10          # colour bands of the last axis
MISSING_COLOUR = "#9a9a9a"


class ParallelCoordinates(ThemedPlot):
    def __init__(self, parent=None):
        super().__init__("Parallel coordinates", "", "")
        self.setObjectName("parallel_coordinates")
        self.view = None
        self.line_items: list[pg.PlotDataItem] = []   # one per colour band
        self.labels: list[pg.TextItem] = []
        self.runs_drawn = 0
        item = self.getPlotItem()
        for side in ("left", "bottom"):
            item.hideAxis(side)
        item.setMouseEnabled(x=False, y=False)
        self.setMinimumHeight(320)

    def show_axes(self, view) -> None:
        """``view``: an ``engine.store.parallel_axes.ParallelAxes``."""
        self.view = view
        self.redraw()

    def redraw(self) -> None:
        self.getPlotItem().clear()
        self.getPlotItem().showGrid(x=False, y=False)  # the theme turns the grid on; axes are drawn here
        self.line_items, self.labels, self.runs_drawn = [], [], 0
        view = self.view
        if view is None or not view.axes:
            return
        n = len(view.axes)
        fg = QColor(theme.colors().plot_fg)
        self._draw_axes(view, fg)
        pos = view.positions
        colour_by = pos[:, -1]
        band = np.full(len(pos), -1)
        known = ~np.isnan(colour_by)
        band[known] = np.minimum((colour_by[known] * BANDS).astype(int), BANDS - 1)
        width = 1.0 if len(pos) > 200 else 2.0
        xs = np.arange(n + 1, dtype=np.float64)
        for b in range(-1, BANDS):
            rows = pos[band == b]
            if not len(rows):
                continue
            y = np.concatenate([rows, np.full((len(rows), 1), np.nan)], axis=1).ravel()
            x = np.tile(xs, len(rows))
            x[np.isnan(y)] = np.nan
            colour = QColor(MISSING_COLOUR) if b < 0 else QColor(*ramp_absolute(np.array([(b + 0.5) / BANDS]))[0])
            colour.setAlpha(160 if len(pos) > 50 else 230)
            line = pg.PlotDataItem(x, y, connect="finite", pen=pg.mkPen(colour, width=width))
            self.addItem(line)
            self.line_items.append(line)
            self.runs_drawn += len(rows)
        self.getPlotItem().setRange(xRange=(-0.4, n - 0.6), yRange=(-0.16, 1.2), padding=0)

    def _draw_axes(self, view, fg: QColor) -> None:
        pen = pg.mkPen(fg, width=1)
        for i, axis in enumerate(view.axes):
            self.addItem(pg.PlotDataItem([i, i], [0, 1], pen=pen))
            self._label(axis.field, i, 1.05, fg, anchor=(0.5, 1.0), bold=True)
            for t, text in axis.ticks:
                self._label(text if len(text) <= 14 else text[:13] + "…", i, t, fg, anchor=(-0.05, 0.5))
            if axis.kind == "log":
                self._label("log", i, -0.06, fg, anchor=(0.5, 0.0))

    def _label(self, text: str, x: float, y: float, colour: QColor, anchor, bold: bool = False) -> None:
        label = pg.TextItem(text, color=colour, anchor=anchor)
        if bold:
            font = label.textItem.font()
            font.setBold(True)
            label.setFont(font)
        label.setPos(x, y)
        self.addItem(label)
        self.labels.append(label)
