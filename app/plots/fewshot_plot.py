"""Few-shot accuracy against labeled images per class: one line per run (mean over draws)
with a band of mean +- std, on a log x axis (k = 1, 2, 4, ... 96), as in the low-shot
figures of Goyal et al. (2019) and Wang et al. (2019)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from app.plots.plot_style import RunSeriesPlot


def fewshot_curve(results: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A ``fewshot`` protocol result -> (k, mean, std), each (K,), accuracies in percent,
    sorted by k."""
    per_k = sorted((int(k), r["mean"], r["std"]) for k, r in results.get("per_k", {}).items())
    if not per_k:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    k, mean, std = (np.array(col, dtype=float) for col in zip(*per_k))
    return k, 100 * mean, 100 * std


class PercentAxis(pg.AxisItem):
    """pyqtgraph's tick positions, each label with a percent sign ("20 %")."""

    def tickStrings(self, values, scale, spacing):
        return [f"{s} %" for s in super().tickStrings(values, scale, spacing)]


class FewShotPlot(RunSeriesPlot):
    def __init__(self, parent=None):
        super().__init__("Few-shot accuracy (mean ± std over draws)", "labeled images per class (k)",
                         "top-1 accuracy", parent, legend_offset=(10, 10))  # curves rise to the right
        self.setObjectName("fewshot_plot")
        self.getPlotItem().setAxisItems({"left": PercentAxis("left")})
        self.apply_theme()
        self.getPlotItem().setLogMode(x=True)
        self.curves: dict[str, pg.PlotDataItem] = {}

    def redraw(self) -> None:
        self.reset()
        self.curves = {}
        shots: set[int] = set()
        for name, color_index, results in self.series:
            k, mean, std = fewshot_curve(results)
            if not len(k):
                continue
            shots.update(int(v) for v in k)
            color = self.color(color_index)
            low = self.plot(k, mean - std, pen=pg.mkPen(self.color(color_index, 90), width=1))
            high = self.plot(k, mean + std, pen=pg.mkPen(self.color(color_index, 90), width=1))
            self.addItem(pg.FillBetweenItem(low, high, brush=pg.mkBrush(self.color(color_index, 45))))
            line = self.plot(k, mean, pen=pg.mkPen(color, width=2), symbol="o", symbolSize=7,
                             symbolBrush=pg.mkBrush(color), symbolPen=pg.mkPen(color), name=name)
            line.setZValue(2)
            self.curves[name] = line
        self.set_ticks(sorted(shots))
        self.getPlotItem().enableAutoRange()

    def set_ticks(self, shots: list[int]) -> None:
        """x ticks at the evaluated shot counts only (a log axis's own minor ticks, 2 ... 9 in
        every decade, overlap)."""
        item = self.getPlotItem()
        item.getAxis("bottom").setTicks([[(float(np.log10(k)), str(k)) for k in shots], []] if shots else None)

    def curve_count(self) -> int:
        return len(self.curves)
