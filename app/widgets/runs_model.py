"""The runs table: a ``QAbstractTableModel`` over ``Store.list_runs`` and a filter proxy
(search text, status, method). Refreshing updates rows in place when the set of runs is
unchanged, so the selection and scroll position survive the periodic refresh. Metric columns
the user adds (``metric_columns``) follow the fixed ones: the latest value of a logged key."""
from __future__ import annotations

import time

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSortFilterProxyModel, Qt

from app.formatting import duration, number, run_duration, when
from app.plots.method_metrics import accuracy_key
from engine.metric_labels import metric_title
from engine.store.run_record import Run

COLUMNS = ("name", "id", "status", "method", "backbone", "dataset", "created", "duration", "epochs",
           "loss", "accuracy", "knn_acc", "evals")
NUMERIC = {"created", "duration", "epochs", "loss", "accuracy", "knn_acc", "evals"}
SORT_ROLE = Qt.UserRole + 1
RUN_ID_ROLE = Qt.UserRole + 2


def _cells(run: Run, now: float) -> dict:
    latest = run.latest
    acc = latest.get(accuracy_key(run.method, latest))
    total, step = run.total_steps or 0, run.step or 0
    epochs = run.config["train"].get("epochs", 0)
    done = epochs * step / total if total else 0.0
    status = "baseline" if run.is_baseline else run.status.value
    return {"name": run.name, "id": run.short_id, "status": status, "method": run.method, "backbone": run.backbone,
            "dataset": run.dataset, "created": run.created, "duration": run_duration(run, now),
            "epochs": done, "epochs_text": f"{done:.1f}/{epochs}", "loss": latest.get("loss"),
            "accuracy": acc, "knn_acc": latest.get("knn_acc"), "evals": run.evals}


class RunsModel(QAbstractTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list[Run] = []
        self.cells: list[dict] = []
        self.metric_columns: list[str] = []  # logged keys shown after COLUMNS

    def set_metric_columns(self, keys: list[str]) -> None:
        self.beginResetModel()
        self.metric_columns = [k for k in dict.fromkeys(keys) if k not in COLUMNS]
        self.endResetModel()

    def column_key(self, column: int) -> str:
        return COLUMNS[column] if column < len(COLUMNS) else self.metric_columns[column - len(COLUMNS)]

    def logged_keys(self) -> list[str]:
        """Every metric key a listed run has logged, sorted."""
        return sorted({k for r in self.runs for k in r.latest})

    def set_runs(self, runs: list[Run]) -> None:
        now = time.time()
        cells = [_cells(r, now) for r in runs]
        if [r.id for r in runs] == [r.id for r in self.runs]:
            self.runs, self.cells = runs, cells
            if runs:
                self.dataChanged.emit(self.index(0, 0), self.index(len(runs) - 1, self.columnCount() - 1))
            return
        self.beginResetModel()
        self.runs, self.cells = runs, cells
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.runs)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(COLUMNS) + len(self.metric_columns)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation != Qt.Horizontal or section >= self.columnCount():
            return None
        if role == Qt.DisplayRole:
            if section >= len(COLUMNS):
                return metric_title(self.column_key(section))
            return COLUMNS[section].replace("_", " ")
        if role == Qt.ToolTipRole and section >= len(COLUMNS):
            return f"latest {self.column_key(section)} (right-click the header to add or remove metric columns)"
        return None

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        column, cells = self.column_key(index.column()), self.cells[index.row()]
        metric = index.column() >= len(COLUMNS)
        value = self.runs[index.row()].latest.get(column) if metric else cells[column]
        if metric:
            if role == Qt.DisplayRole:
                return number(value)
            if role == SORT_ROLE:
                return float("-inf") if value is None else float(value)
            if role == Qt.TextAlignmentRole:
                return int(Qt.AlignRight | Qt.AlignVCenter)
            if role == RUN_ID_ROLE:
                return self.runs[index.row()].id
            return None
        if role == Qt.DisplayRole:
            if column == "created":
                return when(value)
            if column == "duration":
                return duration(value)
            if column == "epochs":
                return cells["epochs_text"]
            if column in ("loss", "accuracy", "knn_acc"):
                return number(value)
            return str(value) if value is not None else ""
        if role == SORT_ROLE:
            if column in NUMERIC:
                return float("-inf") if value is None else float(value)
            return str(value).lower()
        if role == RUN_ID_ROLE:
            return self.runs[index.row()].id
        if role == Qt.TextAlignmentRole and column in NUMERIC and column != "created":
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ToolTipRole and column == "id":
            return self.runs[index.row()].id
        if role == Qt.ToolTipRole and column == "name":
            run = self.runs[index.row()]
            tip = run.id + (f"\n{run.notes}" if run.notes else "")
            return tip + (f"\ntags: {run.tags}" if run.tags else "")
        return None

    def run_at(self, row: int) -> Run:
        return self.runs[row]


class RunsFilter(QSortFilterProxyModel):
    """Search over name, id, tags, notes and plugin ids; exact status and method."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search, self.status, self.method = "", "", ""
        self.setSortRole(SORT_ROLE)

    def set_filters(self, search: str | None = None, status: str | None = None, method: str | None = None):
        changing = hasattr(self, "beginFilterChange")  # Qt >= 6.9; invalidateRowsFilter before
        if changing:
            self.beginFilterChange()
        if search is not None:
            self.search = search.strip().lower()
        if status is not None:
            self.status = status
        if method is not None:
            self.method = method
        if changing:
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row, parent):
        run = self.sourceModel().run_at(row)
        if self.status and run.status != self.status:
            return False
        if self.method and run.method != self.method:
            return False
        if self.search:
            text = " ".join(str(getattr(run, k) or "") for k in
                            ("name", "id", "tags", "notes", "method", "backbone", "dataset")).lower()
            return all(word in text for word in self.search.split())
        return True
