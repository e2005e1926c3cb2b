"""Several runs side by side: their configs (only the keys that differ unless "show all"),
their latest metrics, and their loss and accuracy curves overlaid."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.formatting import number
from app.plots.curve_plot import CurvePlot
from app.plots.method_metrics import accuracy_key
from engine.metric_labels import metric_title
from engine.store.parallel_axes import flat_config, varying_fields
from engine.store.run_record import Run

MAX_CURVES = 16
KINDS = {"data": "dataset", "method": "method", "backbone": "backbone"}


def config_rows(runs: list[Run], show_all: bool) -> list[tuple[str, list]]:
    """(key, [value per run]) in a stable order; only differing keys unless ``show_all``."""
    flats = [flat_config(r.config) for r in runs]
    keys = list(dict.fromkeys(k for f in flats for k in f)) if show_all else varying_fields(runs)
    return [(key, [f.get(key, "—") for f in flats]) for key in keys]


def metric_rows(runs: list[Run]) -> list[tuple[str, list]]:
    """(key, [latest value per run, None where a run did not log it]): the loss, the runs'
    accuracy keys and kNN first, then the other keys by name."""
    first = ["loss"] + [accuracy_key(r.method, r.latest) for r in runs] + ["knn_acc"]
    keys = sorted({k for r in runs for k in r.latest})
    ordered = [k for k in dict.fromkeys(first) if k in keys] + [k for k in keys if k not in first]
    return [(key, [r.latest.get(key) for r in runs]) for key in ordered]


def format_value(run: Run, key: str, value) -> str:
    """A config value with its parameter's unit ("data.max_rotation" 180.0 -> "180°") when the
    plugins are loaded; else as stored."""
    from engine import registry

    section, _, name = key.partition(".")
    if not name or not registry.is_discovered():
        return str(value)
    try:
        if section == "train":
            from engine.training.config import TRAIN_PARAMS as schema
        else:
            schema = registry.get(KINDS[section], run.config[section]["id"]).schema
    except Exception:  # noqa: BLE001 -- a plugin that is gone, an old config: the raw value
        return str(value)
    param = next((p for p in schema if p.name == name), None)
    return param.format(value) if param is not None and value != "—" else str(value)


class CompareDialog(QDialog):
    def __init__(self, runs: list[Run], parent=None, store=None):
        super().__init__(parent)
        self.setWindowTitle(f"Compare {len(runs)} runs")
        self.runs, self.store = runs, store
        self.show_all = QCheckBox("show all keys (not only those that differ)")
        self.show_all.setObjectName("show_all")
        self.show_all.toggled.connect(self.fill)
        self.note = QLabel()
        self.note.setProperty("role", "muted")
        self.table = QTableWidget()
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        config_tab = QWidget()
        config_layout = QVBoxLayout(config_tab)
        config_layout.addWidget(self.show_all)
        config_layout.addWidget(self.note)
        config_layout.addWidget(self.table, 1)

        self.metrics = QTableWidget()
        self.metrics.setObjectName("compare_metrics")
        self.metrics.setEditTriggers(QTableWidget.NoEditTriggers)
        self.curves = {"loss": CurvePlot("Loss", legend=True), "accuracy": CurvePlot("Method accuracy", legend=True)}
        curves_tab = QWidget()
        curves_layout = QVBoxLayout(curves_tab)
        for plot in self.curves.values():
            curves_layout.addWidget(plot, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(config_tab, "Configuration")
        self.tabs.addTab(self.metrics, "Latest metrics")
        self.tabs.addTab(curves_tab, "Curves")
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.resize(max(640, 240 + 180 * len(runs)), 560)
        self.fill()
        self.fill_metrics()
        self.fill_curves()

    def _headers(self, table: QTableWidget) -> None:
        table.setColumnCount(len(self.runs))
        table.setHorizontalHeaderLabels([f"{r.name}\n{r.id}" for r in self.runs])

    def fill(self, *_):
        rows = config_rows(self.runs, self.show_all.isChecked())
        self.table.clear()
        self._headers(self.table)
        self.table.setRowCount(len(rows))
        self.table.setVerticalHeaderLabels([k for k, _ in rows])
        highlight = QColor(theme.colors().highlight)
        highlight.setAlpha(40)
        for i, (key, values) in enumerate(rows):
            differs = any(v != values[0] for v in values[1:])
            for j, value in enumerate(values):
                item = QTableWidgetItem(format_value(self.runs[j], key, value))
                item.setTextAlignment(Qt.AlignLeft | Qt.AlignVCenter)
                if differs:
                    item.setBackground(highlight)
                self.table.setItem(i, j, item)
        self.table.resizeColumnsToContents()
        differing = sum(1 for _, v in rows if any(x != v[0] for x in v[1:]))
        self.note.setText(f"{differing} setting(s) differ" if rows or not self.show_all.isChecked() else "")
        if not rows:
            self.note.setText("The configurations are identical.")

    def fill_metrics(self) -> None:
        """One row per logged key: each run's latest value (blank where it logged none)."""
        rows = metric_rows(self.runs)
        self.metrics.clear()
        self._headers(self.metrics)
        self.metrics.setRowCount(len(rows))
        self.metrics.setVerticalHeaderLabels([metric_title(k) for k, _ in rows])
        for i, (key, values) in enumerate(rows):
            self.metrics.verticalHeaderItem(i).setToolTip(key)
            for j, value in enumerate(values):
                item = QTableWidgetItem(number(value))
                item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.metrics.setItem(i, j, item)
        self.metrics.resizeColumnsToContents()

    def fill_curves(self) -> None:
        """Loss and each run's own accuracy key, one colour per run (read from the store)."""
        for plot in self.curves.values():
            plot.clear_series()
        if self.store is None:
            return
        keys = {accuracy_key(r.method, r.latest) for r in self.runs}
        self.curves["accuracy"].set_title(metric_title(next(iter(keys))) if len(keys) == 1 else "Method accuracy")
        for i, run in enumerate(self.runs[:MAX_CURVES]):
            label = f"{run.name} ({run.short_id})"
            for plot_key, key in (("loss", "loss"), ("accuracy", accuracy_key(run.method, run.latest))):
                steps, epochs, times, values = self.store.metric_series(run.id, key)
                if values:
                    self.curves[plot_key].append(label, steps, epochs, times, values, i)

    def row_keys(self) -> list[str]:
        return [self.table.verticalHeaderItem(i).text() for i in range(self.table.rowCount())]

    def metric_keys(self) -> list[str]:
        return [self.metrics.verticalHeaderItem(i).toolTip() for i in range(self.metrics.rowCount())]
