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
from engine.store.run_record import Run, reuse_parsed

COLUMNS = ("name", "id", "status", "method", "backbone", "dataset", "created", "duration", "epochs",
           "loss", "accuracy", "knn_acc", "evals")
NUMERIC = {"created", "duration", "epochs", "loss", "accuracy", "knn_acc", "evals"}
SORT_ROLE = Qt.UserRole + 1
RUN_ID_ROLE = Qt.UserRole + 2
# data() is asked for several roles per cell on every paint: compare plain ints, at most once each
_DISPLAY, _ALIGN, _TIP = int(Qt.DisplayRole), int(Qt.TextAlignmentRole), int(Qt.ToolTipRole)
_SORT, _RUN_ID = int(SORT_ROLE), int(RUN_ID_ROLE)
_RIGHT = int(Qt.AlignRight | Qt.AlignVCenter)
_ALIGNED = tuple(c in NUMERIC and c != "created" for c in COLUMNS)


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


def _texts(cells: dict) -> tuple[str, ...]:
    """What each of COLUMNS shows for a row's cells."""
    out = []
    for column in COLUMNS:
        value = cells[column]
        if column == "created":
            out.append(when(value))
        elif column == "duration":
            out.append(duration(value))
        elif column == "epochs":
            out.append(cells["epochs_text"])
        elif column in ("loss", "accuracy", "knn_acc"):
            out.append(number(value))
        else:
            out.append(str(value) if value is not None else "")
    return tuple(out)


def sort_key(column: str, cells: dict):
    return _order(column, cells[column])


# Cells read straight off the Run: sorting on them makes no cells (and parses no config)
_PLAIN_CELLS = {"name": lambda r: r.name, "id": lambda r: r.short_id, "method": lambda r: r.method,
                "backbone": lambda r: r.backbone, "dataset": lambda r: r.dataset, "evals": lambda r: r.evals,
                "loss": lambda r: r.latest.get("loss"), "knn_acc": lambda r: r.latest.get("knn_acc")}


def _order(column: str, value):
    if column in NUMERIC:
        return float("-inf") if value is None else float(value)
    return str(value).lower()


def _metric_key(value) -> float:
    return float("-inf") if value is None else float(value)


class RunsModel(QAbstractTableModel):
    """Sorts itself (``sort``), in Python: a proxy sorting 10,000 runs asks ``data()`` a few
    hundred thousand times, which took seconds (benchmarks/scale.py). A row's cells (and its
    shown strings, and so its parsed config) are made when first shown (or sorted on), not for
    every run at each refresh."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: list[Run] = []
        self.cells: list[dict | None] = []
        self.shown: list[tuple[str, ...] | None] = []   # texts(row), made on first paint
        self.now = time.time()
        self.order: tuple[int, Qt.SortOrder] | None = None   # (column, order) kept across refreshes
        self.metric_columns: list[str] = []  # logged keys shown after COLUMNS

    def set_metric_columns(self, keys: list[str]) -> None:
        self.beginResetModel()
        self.metric_columns = [k for k in dict.fromkeys(keys) if k not in COLUMNS]
        if self.order is not None and self.order[0] >= self.columnCount():
            self.order = None
        self.endResetModel()

    def column_key(self, column: int) -> str:
        return COLUMNS[column] if column < len(COLUMNS) else self.metric_columns[column - len(COLUMNS)]

    def logged_keys(self) -> list[str]:
        """Every metric key a listed run has logged, sorted."""
        return sorted({k for r in self.runs for k in r.latest})

    def cell(self, row: int) -> dict:
        cells = self.cells[row]
        if cells is None:
            cells = self.cells[row] = _cells(self.runs[row], self.now)
        return cells

    def _sorted(self, runs: list[Run]) -> list[Run]:
        if self.order is None or not runs:
            return runs
        column, descending = self.column_key(self.order[0]), self.order[1] == Qt.DescendingOrder
        if self.order[0] >= len(COLUMNS):  # a metric column: the latest value, missing ones first
            return sorted(runs, key=lambda r: _metric_key(r.latest.get(column)), reverse=descending)
        if column == "created":  # the default order: no cells needed
            return sorted(runs, key=lambda r: r.created, reverse=descending)
        if column in _PLAIN_CELLS:
            cell = _PLAIN_CELLS[column]
            return sorted(runs, key=lambda r: _order(column, cell(r)), reverse=descending)
        return sorted(runs, key=lambda r: sort_key(column, _cells(r, self.now)), reverse=descending)

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        if not 0 <= column < self.columnCount():
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        ids = [self.runs[i.row()].id for i in old]
        self.order = (column, order)
        self.runs = self._sorted(self.runs)
        self.cells, self.shown = [None] * len(self.runs), [None] * len(self.runs)
        row = {r.id: i for i, r in enumerate(self.runs)}
        self.changePersistentIndexList(old, [self.index(row[rid], i.column()) for rid, i in zip(ids, old)])
        self.layoutChanged.emit()

    def set_runs(self, runs: list[Run]) -> None:
        self.now = time.time()
        reuse_parsed(runs, self.runs)  # a refresh parses only the configs that changed
        runs = self._sorted(runs)
        same = [r.id for r in runs] == [r.id for r in self.runs]
        if not same:
            self.beginResetModel()
        self.runs, self.cells, self.shown = runs, [None] * len(runs), [None] * len(runs)
        if not same:
            self.endResetModel()
        elif runs:
            self.dataChanged.emit(self.index(0, 0), self.index(len(runs) - 1, self.columnCount() - 1))

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

    def texts(self, row: int) -> tuple[str, ...]:
        """The row's shown strings, made when the row is first painted (kept until a refresh)."""
        texts = self.shown[row]
        if texts is None:
            texts = self.shown[row] = _texts(self.cell(row))
        return texts

    def data(self, index, role=Qt.DisplayRole):
        """Cheap for every role Qt asks while painting: a row's strings are made once
        (``texts``), and roles nothing answers return at once."""
        role = int(role)
        if role not in (_DISPLAY, _ALIGN, _TIP, _SORT, _RUN_ID) or not index.isValid():
            return None
        row, column = index.row(), index.column()
        if role == _RUN_ID:
            return self.runs[row].id
        if column >= len(COLUMNS):
            return self._metric_data(column, row, role)
        if role == _DISPLAY:
            return self.texts(row)[column]
        if role == _ALIGN:
            return _RIGHT if _ALIGNED[column] else None
        if role == _SORT:
            return sort_key(COLUMNS[column], self.cell(row))
        key = COLUMNS[column]  # a tooltip
        if key == "id":
            return self.runs[row].id
        if key == "name":
            run = self.runs[row]
            tip = run.id + (f"\n{run.notes}" if run.notes else "")
            return tip + (f"\ntags: {run.tags}" if run.tags else "")
        return None

    def _metric_data(self, column: int, row: int, role: int):
        value = self.runs[row].latest.get(self.column_key(column))
        if role == _DISPLAY:
            return number(value)
        if role == _SORT:
            return _metric_key(value)
        if role == _ALIGN:
            return _RIGHT
        return None

    def run_at(self, row: int) -> Run:
        return self.runs[row]


class RunsFilter(QSortFilterProxyModel):
    """Search over name, id, tags, notes and plugin ids; exact status and method; a ``where``
    predicate of the filter language (engine/store/run_filter.py)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.search, self.status, self.method = "", "", ""
        self.where = None   # a predicate from engine.store.run_filter.parse, or None
        self.setSortRole(SORT_ROLE)

    def sort(self, column: int, order: Qt.SortOrder = Qt.AscendingOrder) -> None:
        """Rows keep the source model's order, which sorts itself (RunsModel.sort): fast."""
        self.sourceModel().sort(column, order)

    def set_filters(self, search: str | None = None, status: str | None = None, method: str | None = None,
                    where=False):
        changing = hasattr(self, "beginFilterChange")  # Qt >= 6.9; invalidateRowsFilter before
        if changing:
            self.beginFilterChange()
        if search is not None:
            self.search = search.strip().lower()
        if status is not None:
            self.status = status
        if method is not None:
            self.method = method
        if where is not False:
            self.where = where
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
        if self.where is not None and not self.where(run, {}):
            return False
        if self.search:
            text = " ".join(str(getattr(run, k) or "") for k in
                            ("name", "id", "tags", "notes", "method", "backbone", "dataset")).lower()
            return all(word in text for word in self.search.split())
        return True
