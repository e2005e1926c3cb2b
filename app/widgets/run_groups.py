"""The runs browser's group-by table: the runs shown, grouped by one field (a parameter,
column or metric), with mean ± s.d. of the main metrics per group. The groups come from
``engine.store.run_filter.group_by``; this widget only lists them."""
from __future__ import annotations

from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

GROUP_METRICS = ("knn_acc", "loss")


class RunGroups(QTableWidget):
    def __init__(self, parent=None):
        super().__init__(0, 2 + len(GROUP_METRICS), parent)
        self.setObjectName("run_groups")
        self.setHorizontalHeaderLabels(["value", "runs", *(f"{m} (mean ± s.d.)" for m in GROUP_METRICS)])
        self.horizontalHeader().setStretchLastSection(True)
        self.setEditTriggers(QTableWidget.NoEditTriggers)
        self.verticalHeader().hide()
        self.groups: list = []

    def show_groups(self, groups: list) -> None:
        self.groups = groups
        self.setRowCount(len(groups))
        for i, g in enumerate(groups):
            cells = [str(g.value), str(g.runs)]
            for m in GROUP_METRICS:
                mean, sd, n = g.stats.get(m, (None, None, 0))
                cells.append("" if mean is None else f"{mean:.4g} ± {sd:.2g}" + (f" (n={n})" if n != g.runs else ""))
            for j, text in enumerate(cells):
                self.setItem(i, j, QTableWidgetItem(text))
        self.setVisible(bool(groups))
