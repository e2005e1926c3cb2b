"""A pyqtgraph plot of one metric for one or several runs, fed incrementally.

Each series keeps growing numpy buffers (``SeriesBuffer``) and is redrawn with ``setData``;
auto down-sampling (peak mode) and clip-to-view keep long runs fast. With smoothing on, the
raw curve stays visible, faded, under its moving average (as in TensorBoard)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from app import theme
from app.plots.plot_style import plain_numbers, style_axes
from app.plots.series_buffer import SeriesBuffer

X_LABELS = {"step": "step", "epoch": "epoch", "time": "wall time (s)"}


class CurvePlot(pg.PlotWidget):
    def __init__(self, title: str, parent=None, legend: bool = False, symbols: bool = False, unit: str = ""):
        super().__init__(parent)
        self.title, self.unit = title, unit
        self.symbols = symbols  # mark each point: for sparse series such as a per-epoch monitor
        self.x_mode = "step"
        self.weight = 0.0
        self.log_y = False
        self.series: dict[str, SeriesBuffer] = {}
        self.items: dict[str, tuple] = {}
        self.colors: dict[str, int] = {}
        self.origin: dict[str, float] = {}  # first wall time per series: the time axis starts at 0
        self.time_origin: float | None = None  # when set (a run's start), every series counts from it
        self.references: dict[str, tuple] = {}  # label -> (line, the point that keeps it in the y range)
        item = self.getPlotItem()
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.showGrid(x=True, y=True)
        item.setMenuEnabled(False)
        for side in ("left", "bottom"):  # "(x0.001)" scale prefixes read as wrong units on small values
            plain_numbers(item.getAxis(side))
        self.legend = item.addLegend(offset=(-10, 10)) if legend else None
        self.setMinimumHeight(160)
        self.apply_theme()
        mgr = theme.manager()
        if mgr is not None:
            mgr.changed.connect(self.apply_theme)

    # --- look -----------------------------------------------------------------------------
    def apply_theme(self, *_):
        c = theme.colors()
        style_axes(self, self.title, X_LABELS[self.x_mode], self.unit or None)
        if self.legend is not None:
            self.legend.setLabelTextColor(c.plot_fg)
            for _sample, label in self.legend.items:  # existing labels keep their colour until re-set
                label.setText(label.text, color=c.plot_fg)
            self.legend.setBrush(pg.mkBrush(QColor(c.plot_bg)))
        for name in self.items:
            self._style(name)

    def _style(self, name: str) -> None:
        raw, smooth = self.items[name]
        color = QColor(theme.curve_color(self.colors[name]))
        faded = QColor(color)
        faded.setAlpha(70)
        smooth.setPen(pg.mkPen(color, width=2))
        raw.setPen(pg.mkPen(faded, width=1))
        if self.symbols:
            smooth.setSymbol("o")
            smooth.setSymbolSize(6)
            smooth.setSymbolBrush(pg.mkBrush(color))
            smooth.setSymbolPen(pg.mkPen(color))

    def set_title(self, title: str, unit: str | None = None) -> None:
        """A readable title (``engine.metric_labels``), and the y axis's unit when given."""
        self.title = title
        if unit is not None:
            self.unit = unit
            self.getPlotItem().setLabel("left", unit or None, color=theme.colors().plot_fg)
        self.getPlotItem().setTitle(title, color=theme.colors().plot_fg, size="10pt")

    # --- data -------------------------------------------------------------------------------
    def ensure(self, name: str, color_index: int | None = None) -> SeriesBuffer:
        if name not in self.series:
            buf = SeriesBuffer()
            buf.set_weight(self.weight)
            self.series[name] = buf
            self.colors[name] = len(self.colors) if color_index is None else color_index
            raw = self.plot([], [])
            smooth = self.plot([], [], name=name if self.legend is not None else None)
            for curve in (raw, smooth):
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
            raw.setZValue(0)
            smooth.setZValue(1)
            self.items[name] = (raw, smooth)
            self._style(name)
        return self.series[name]

    def append(self, name: str, steps, epochs, times, values, color_index: int | None = None) -> None:
        buf = self.ensure(name, color_index)
        if name not in self.origin and len(times):
            self.origin[name] = float(times[0]) if self.time_origin is None else self.time_origin
        buf.append(steps, epochs, np.asarray(times, dtype=float) - self.origin.get(name, 0.0), values)
        self._redraw(name)

    def _redraw(self, name: str) -> None:
        buf, (raw, smooth) = self.series[name], self.items[name]
        x = buf.xs(self.x_mode)
        smooth.setData(x, buf.ys(True))  # equals the raw values when smoothing is off
        if self.weight > 0:
            raw.setData(x, buf.ys(False))
        raw.setVisible(self.weight > 0)

    def set_reference(self, label: str, value: float) -> None:
        """A dashed horizontal line at ``value`` labelled ``label`` (chance, random init), kept
        inside the y range so the curve is read against it."""
        fg = theme.colors().plot_fg
        line = pg.InfiniteLine(pos=value, angle=0, pen=pg.mkPen(QColor(fg), width=1, style=Qt.DashLine),
                               label=f"{label} {value:.3f}",
                               labelOpts={"position": 0.98, "color": fg, "anchors": [(1, 0), (1, 0)]})
        for item in self.references.pop(label, ()):
            self.removeItem(item)
        # invisible points around the line keep it, and its label under it, inside the y range
        anchor = self.plot([0, 0], [value * 0.9, value * 1.02], pen=None, symbol="o", symbolSize=1,
                           symbolPen=None, symbolBrush=(0, 0, 0, 0))
        self.addItem(line)
        self.references[label] = (line, anchor)

    def reference_values(self) -> dict[str, float]:
        return {label: line.value() for label, (line, _) in self.references.items()}

    def clear_series(self) -> None:
        for items in self.references.values():
            for item in items:
                self.removeItem(item)
        self.references = {}
        for raw, smooth in self.items.values():
            self.removeItem(raw)
            self.removeItem(smooth)
        if self.legend is not None:
            self.legend.clear()
        self.series, self.items, self.colors, self.origin = {}, {}, {}, {}
        self.getPlotItem().enableAutoRange()  # a zoom or pan of the old curves must not hide the new ones

    def point_count(self, name: str | None = None) -> int:
        if name is not None:
            return self.series[name].n if name in self.series else 0
        return sum(b.n for b in self.series.values())

    # --- view options ---------------------------------------------------------------------------
    def set_x_mode(self, mode: str) -> None:
        self.x_mode = mode
        self.getPlotItem().setLabel("bottom", X_LABELS[mode], color=theme.colors().plot_fg)
        for name in self.series:
            self._redraw(name)
        self.getPlotItem().enableAutoRange()

    def set_smoothing(self, weight: float) -> None:
        self.weight = weight
        for name, buf in self.series.items():
            buf.set_weight(weight)
            if weight == 0:
                self.items[name][0].setData([], [])
            self._style(name)
            self._redraw(name)

    def set_log_y(self, on: bool) -> None:
        self.log_y = on
        self.getPlotItem().setLogMode(y=on)
