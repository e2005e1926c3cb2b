"""The look shared by the Evaluate view's plots: theme colours (following light/dark),
title, axis labels, a legend, and curve colours by run index (Okabe & Ito, as elsewhere)."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor

from app import theme
from app.plots.plot_export import save_plot


def plain_numbers(axis: pg.AxisItem) -> None:
    """Tick labels as the values are (an accuracy reads 0.75, not 750 with "(x0.001)" by the
    axis title, which reads as a unit). pyqtgraph 0.14 no longer honours
    ``enableAutoSIPrefix(False)`` on its own; no range where prefixes apply does it."""
    axis.enableAutoSIPrefix(False)
    if hasattr(axis, "setSIPrefixEnableRanges"):
        axis.setSIPrefixEnableRanges(())
    axis.updateAutoSIPrefix()


def style_axes(widget: pg.PlotWidget, title: str, x_label: str, y_label: str | None = None) -> None:
    """Theme colours on a plot's background, title, axes, labels and grid (monitor curves,
    run overlays and the Evaluate view's figures look alike)."""
    c = theme.colors()
    widget.setBackground(c.plot_bg)
    item = widget.getPlotItem()
    item.setTitle(title, color=c.plot_fg, size="10pt")
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(c.plot_fg))
        axis.setTextPen(pg.mkPen(c.plot_fg))
        plain_numbers(axis)
    item.setLabel("bottom", x_label, color=c.plot_fg)
    if y_label is not None:
        item.setLabel("left", y_label, color=c.plot_fg)
    item.showGrid(x=True, y=True, alpha=c.grid_alpha)


class ThemedPlot(pg.PlotWidget):
    """A ``pg.PlotWidget`` that recolours itself with the theme; subclasses draw their data
    in ``redraw()`` (called again after a theme change, so every pen is re-made)."""

    def __init__(self, title: str, x_label: str, y_label: str, parent=None, legend_offset=(-10, 10)):
        super().__init__(parent)
        self.title, self.x_label, self.y_label = title, x_label, y_label
        item = self.getPlotItem()
        item.setMenuEnabled(False)
        self.legend = item.addLegend(offset=legend_offset)  # (x, y) > 0 from the left/top, < 0 from the right/bottom
        self.setMinimumHeight(220)
        self.apply_theme()
        mgr = theme.manager()
        if mgr is not None:
            mgr.changed.connect(self._theme_changed)

    def apply_theme(self) -> None:
        style_axes(self, self.title, self.x_label, self.y_label)
        c = theme.colors()
        self.legend.setLabelTextColor(c.plot_fg)
        background = QColor(c.plot_bg)
        background.setAlpha(200)  # data under the legend stays visible
        self.legend.setBrush(pg.mkBrush(background))

    def _theme_changed(self, *_):
        self.apply_theme()
        self.redraw()

    def redraw(self) -> None:
        """Draw the data again (subclasses)."""

    def reset(self) -> None:
        self.getPlotItem().clear()
        self.legend.clear()

    @staticmethod
    def color(index: int, alpha: int = 255) -> QColor:
        c = QColor(theme.curve_color(index))
        c.setAlpha(alpha)
        return c

    def save(self, path) -> list:
        return save_plot(self, path)


class RunSeriesPlot(ThemedPlot):
    """A ``ThemedPlot`` of one protocol's results side by side for several runs: the series
    are (run label, colour index, results) per run, and ``redraw()`` draws them."""

    def __init__(self, title: str, x_label: str, y_label: str, parent=None, legend_offset=(-10, 10)):
        super().__init__(title, x_label, y_label, parent, legend_offset)
        self.series: list[tuple[str, int, dict]] = []

    def set_series(self, series: list[tuple[str, int, dict]]) -> None:
        """series: (run label, colour index, the protocol's results) per run."""
        self.series = list(series)
        self.redraw()
