"""Layer-wise linear-probe accuracy by backbone stage: one group of bars per stage, one bar
per run (stem, stage 1, 2, ...), as in the per-layer probes of Zhang, Isola & Efros (2016)
and Goyal et al. (2019)."""
from __future__ import annotations

import pyqtgraph as pg

from app.plots.plot_style import RunSeriesPlot


def stage_accuracies(results: dict) -> dict[str, float]:
    """A ``layerwise`` protocol result -> {stage name: top-1 accuracy in percent}."""
    return {r["stage"]: 100 * r["top1"] for r in results.get("stages", [])}


class LayerwisePlot(RunSeriesPlot):
    def __init__(self, parent=None):
        super().__init__("Layer-wise linear probes", "backbone stage", "top-1 accuracy (%)", parent)
        self.setObjectName("layerwise_plot")
        self.bars: dict[str, pg.BarGraphItem] = {}

    def redraw(self) -> None:
        self.reset()
        self.bars = {}
        per_run = [(name, ci, stage_accuracies(res)) for name, ci, res in self.series]
        per_run = [s for s in per_run if s[2]]
        stages: list[str] = []
        for _, _, accs in per_run:
            stages += [s for s in accs if s not in stages]
        axis = self.getPlotItem().getAxis("bottom")
        axis.setTicks([[(i, s) for i, s in enumerate(stages)]])
        if not per_run:
            return
        width = 0.8 / len(per_run)
        for j, (name, color_index, accs) in enumerate(per_run):
            xs = [stages.index(s) - 0.4 + width * (j + 0.5) for s in accs]
            bar = pg.BarGraphItem(x=xs, height=list(accs.values()), width=width * 0.92,
                                  brush=pg.mkBrush(self.color(color_index, 200)),
                                  pen=pg.mkPen(self.color(color_index)))
            self.addItem(bar)
            self.legend.addItem(bar, name)
            self.bars[name] = bar
        self.getPlotItem().setXRange(-0.6, len(stages) - 0.4, padding=0)
        peak = max(max(a.values()) for _, _, a in per_run)
        # headroom above the tallest bar for the legend, one line per run
        self.getPlotItem().setYRange(0, peak * (1.15 + 0.12 * len(per_run)), padding=0)
