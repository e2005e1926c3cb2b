"""Runs browser: every run in the store, searchable and filterable (also with the filter
language of engine/store/run_filter.py, and grouped by a field with mean ± s.d.); selected runs overlay
their curves; actions to open, clone, resume, stop, rename and annotate, delete, export
and compare. Right-clicking the header adds or removes metric columns (the latest value of any
logged key); the choice is kept in the settings."""
from __future__ import annotations

import json
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.jobs import launcher
from app.jobs.background_job import LatestJob
from app.jobs.store_poller import gui_store
from app.jobs.store_writes import StoreWrites
from app.plots.curve_plot import CurvePlot
from app.plots.method_metrics import accuracy_key
from app.settings import app_settings
from app.theme import mark_invalid
from app.views.compare_dialog import CompareDialog
from app.views.parallel_coordinates_dialog import ParallelCoordinatesDialog
from app.views.resume_prompt import resume_runs
from app.views.run_notes_dialog import RunNotesDialog
from app.widgets.run_groups import GROUP_METRICS, RunGroups
from app.widgets.runs_model import COLUMNS, RunsFilter, RunsModel
from engine.metric_labels import metric_title
from engine.runs.status import ACTIVE, RESUMABLE, RunStatus
from engine.store.database import StoreError
from engine.store.export import export_metrics
from engine.store.run_record import Run

OVERLAY_METRICS = ("loss", "accuracy", "knn_acc", "lr")
MAX_OVERLAY = 16
REFRESH_MS = 2000
FRESH_S = 1.0   # a first show this soon after the view was built does not list the runs again
METRIC_COLUMNS_SETTING = "runs/metric_columns"


def _list_runs(home: Path) -> list[Run]:
    """Every run, read with a store of this (pool) thread's own."""
    store = gui_store(home)
    try:
        return store.list_runs()
    finally:
        store.close()


class RunsView(QWidget):
    open_requested = Signal(str)
    clone_requested = Signal(dict, str)
    runs_resumed = Signal(list)  # ids of the runs a Resume here set going again

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.store = gui_store(self.home)  # reads only; writes go through self.writes
        self.writes = StoreWrites(self.home, self)
        self.model = RunsModel(self)
        self.proxy = RunsFilter(self)
        self.proxy.setSourceModel(self.model)

        self.search = QLineEdit()
        self.search.setObjectName("runs_search")
        self.search.setPlaceholderText("search name, id, tags, notes, plugins…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda t: self.proxy.set_filters(search=t))
        self.status_filter = QComboBox()
        self.status_filter.addItem("any status", "")
        for s in RunStatus:
            self.status_filter.addItem(s.value, s.value)
        self.status_filter.currentIndexChanged.connect(
            lambda: self.proxy.set_filters(status=self.status_filter.currentData()))
        self.method_filter = QComboBox()
        self.method_filter.addItem("any method", "")
        self.method_filter.currentIndexChanged.connect(
            lambda: self.proxy.set_filters(method=self.method_filter.currentData()))
        self.where = QLineEdit()
        self.where.setObjectName("runs_where")
        self.where.setPlaceholderText("filter: method = jigsaw and knn_acc > 0.3")
        self.where.setToolTip("and / or / not, brackets, = != < <= > >= ~ (contains) over columns, metrics "
                              "and parameters (train.lr, data.train_size, or a bare name)")
        self.where.setClearButtonEnabled(True)
        self.where.textChanged.connect(self._where_changed)
        self.group_field = QLineEdit()
        self.group_field.setObjectName("runs_group_by")
        self.group_field.setPlaceholderText("group by, e.g. method")
        self.group_field.textChanged.connect(lambda _: self._regroup())
        self.where_message = QLabel()
        self.where_message.setObjectName("runs_where_message")
        self.where_message.setProperty("role", "muted")
        self.groups = RunGroups()
        self.groups.hide()
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.status_filter)
        filters.addWidget(self.method_filter)
        where_row = QHBoxLayout()
        where_row.addWidget(self.where, 2)
        where_row.addWidget(self.group_field, 1)
        self.parallel_button = parallel = QPushButton("Parallel coordinates")  # the filter's runs, not the selection
        parallel.setObjectName("runs_parallel")
        parallel.clicked.connect(self.parallel_coordinates)
        where_row.addWidget(parallel)

        self.table = QTableView()
        self.table.setObjectName("runs_table")
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index("created"), Qt.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setResizeContentsPrecision(100)  # fast with 1,000 runs
        self.table.setContextMenuPolicy(Qt.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._menu)
        self.table.doubleClicked.connect(lambda _: self.open_selected())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        header = self.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.CustomContextMenu)
        header.customContextMenuRequested.connect(
            lambda pos: self.header_menu().exec(header.viewport().mapToGlobal(pos)))
        self.model.set_metric_columns(self._saved_metric_columns())

        self.buttons = {}
        actions = QHBoxLayout()
        for key, text, slot in (("open", "Open in monitor", self.open_selected), ("clone", "Clone", self.clone),
                                ("resume", "Resume", self.resume), ("stop", "Stop", self.stop),
                                ("notes", "Rename / notes", self.edit_notes), ("compare", "Compare", self.compare),
                                ("export", "Export CSV", self.export), ("delete", "Delete", self.delete)):
            b = QPushButton(text)
            b.setObjectName(f"runs_{key}")
            b.clicked.connect(slot)
            actions.addWidget(b)
            self.buttons[key] = b
        actions.addStretch(1)

        self.overlay_metric = QComboBox()
        for key in OVERLAY_METRICS:
            self.overlay_metric.addItem("Method accuracy" if key == "accuracy" else metric_title(key), key)
        self.overlay_metric.currentIndexChanged.connect(lambda _: self.refresh_overlay())
        self.overlay = CurvePlot(self.overlay_metric.currentText(), legend=True)
        overlay_box = QWidget()
        overlay_layout = QVBoxLayout(overlay_box)
        overlay_layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("Overlay of the selected runs:"))
        row.addWidget(self.overlay_metric)
        row.addStretch(1)
        overlay_layout.addLayout(row)
        overlay_layout.addWidget(self.overlay, 1)

        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        top_layout.addLayout(filters)
        top_layout.addLayout(where_row)
        top_layout.addWidget(self.where_message)
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.groups)
        top_layout.addLayout(actions)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(overlay_box)
        splitter.setSizes([420, 300])
        QVBoxLayout(self).addWidget(splitter)

        self.list_job = LatestJob(self)
        self.list_job.done.connect(self._apply)
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self._tick)
        self.timer.start()
        self.refresh()
        self._built_at: float | None = time.monotonic()   # until first shown (showEvent)
        self._selection_changed()

    # --- data ---------------------------------------------------------------------------------
    def _tick(self):
        """The periodic refresh reads the store on the thread pool: listing 10,000 runs takes a
        few hundred milliseconds the window must not freeze for (benchmarks/scale.py)."""
        if self.isVisible() and not self.list_job.running:
            home = self.home
            self.list_job.submit(lambda: _list_runs(home), sentences=(StoreError,))

    def showEvent(self, event):
        super().showEvent(event)
        built, self._built_at = self._built_at, None
        if built is not None and time.monotonic() - built < FRESH_S:
            return  # shown just after it was built: that listing is current (10,000 runs: ~0.3 s saved)
        self.refresh()  # back on this tab: the runs as they are now, not as they were when it was left

    def refresh(self) -> None:
        """Read the store again (here, at once; ``_poll`` reads it on the thread pool)."""
        self._apply(self.store.list_runs())

    def _apply(self, runs: list[Run]) -> None:
        """Show ``runs``; the selection survives (but for deleted runs), and the buttons and
        the overlay follow the runs as they are now."""
        count = self.model.rowCount()
        chosen = [r.id for r in self.selected_runs()]
        self.model.set_runs(runs)
        if self.group_field.text().strip():
            self._regroup()
        if count != len(runs):  # size the columns when runs come or go (not on every refresh)
            self.table.resizeColumnsToContents()
        left = [i for i in chosen if any(r.id == i for r in runs)]
        if chosen != left or [r.id for r in self.selected_runs()] != left:  # a run came or went
            self.select_ids(left)  # a model reset dropped the selection without a selectionChanged
            self._selection_changed()
        methods = sorted({r.method for r in runs})
        known = [self.method_filter.itemData(i) for i in range(1, self.method_filter.count())]
        for m in methods:
            if m not in known:
                self.method_filter.addItem(m, m)
        self._update_buttons()
        if any(r.status in ACTIVE for r in self.selected_runs()):
            self.refresh_overlay()

    def _where_changed(self, text: str) -> None:
        from engine.store.run_filter import FilterError, parse

        try:
            predicate = parse(text) if text.strip() else None
        except FilterError as e:
            self.where_message.setText(str(e))
            mark_invalid(self.where, str(e))
            return
        mark_invalid(self.where, None)
        self.proxy.set_filters(where=predicate)
        self.where_message.setText(f"{self.proxy.rowCount()} of {self.model.rowCount()} runs" if predicate else "")
        self._regroup()

    def shown_runs(self) -> list[Run]:
        """The runs the filters let through, in table order."""
        return [self.model.run_at(self.proxy.mapToSource(self.proxy.index(r, 0)).row())
                for r in range(self.proxy.rowCount())]

    def _regroup(self) -> None:
        from engine.store.run_filter import group_by

        field = self.group_field.text().strip()
        self.groups.show_groups(group_by(self.shown_runs(), field, list(GROUP_METRICS)) if field else [])

    def selected_runs(self) -> list[Run]:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.run_at(r) for r in rows if r < len(self.model.runs)]

    def select_ids(self, run_ids: list[str]) -> None:
        selection = self.table.selectionModel()
        selection.clearSelection()
        rows = {r.id: i for i, r in enumerate(self.model.runs)}  # not data() on every row: 10,000 runs
        for run_id in run_ids:
            if run_id in rows:
                index = self.proxy.mapFromSource(self.model.index(rows[run_id], 0))
                if index.isValid():
                    selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)

    def _selection_changed(self, *_):
        self._update_buttons()
        self.refresh_overlay()

    def _update_buttons(self) -> None:
        """Enable what the selected runs allow, as the store has them now."""
        runs = self.selected_runs()
        one, some = len(runs) == 1, bool(runs)
        for key in ("open", "notes"):
            self.buttons[key].setEnabled(one)
        self.buttons["clone"].setEnabled(one and not runs[0].is_baseline)  # a baseline has no method to train
        self.buttons["compare"].setEnabled(len(runs) >= 2)
        for key in ("export", "delete"):
            self.buttons[key].setEnabled(some)
        self.buttons["resume"].setEnabled(any(r.status in RESUMABLE and not r.is_baseline for r in runs))
        self.buttons["stop"].setEnabled(any(r.status in ACTIVE for r in runs))

    def refresh_overlay(self) -> None:
        self.overlay.clear_series()
        metric = self.overlay_metric.currentData()
        self.overlay.set_title(self.overlay_metric.currentText())
        for i, run in enumerate(self.selected_runs()[:MAX_OVERLAY]):
            key = accuracy_key(run.method, run.latest) if metric == "accuracy" else metric
            steps, epochs, times, values = self.store.metric_series(run.id, key)
            label = f"{run.name} ({run.id[-4:]})"
            self.overlay.ensure(label, i)
            if values:
                self.overlay.append(label, steps, epochs, times, values, i)

    # --- actions --------------------------------------------------------------------------------
    def _one(self) -> Run | None:
        runs = self.selected_runs()
        return runs[0] if len(runs) == 1 else None

    def open_selected(self):
        run = self._one()
        if run:
            self.open_requested.emit(run.id)

    def clone(self):
        run = self._one()
        if run:
            self.clone_requested.emit(run.config, f"{run.name}-clone")

    def _each(self, runs, action, verb: str):
        """``action(store, run)`` for each of ``runs`` off the main thread; then one message
        naming those that failed, and a refresh."""
        def write(store):
            problems = []
            for run in runs:
                try:
                    action(store, run)
                except (StoreError, OSError) as e:
                    problems.append(f"{run.name}: {e}")
            return problems

        def done(problems):
            if problems:
                QMessageBox.warning(self, f"Could not {verb}", "\n".join(problems))
            self.refresh()

        self.writes.submit(write, done, lambda message: done([message]))

    def resume(self):
        """Paused runs go on in their workers; stopped, crashed and failed ones wait in the run
        queue; one without a checkpoint asks whether to start afresh."""
        chosen = [r for r in self.selected_runs() if r.status in RESUMABLE]
        ids = {r.id for r in chosen}

        def after():
            self.refresh()
            self.runs_resumed.emit([r.id for r in self.model.runs if r.id in ids and r.status in ACTIVE])

        if chosen:
            resume_runs(self, self.writes, self.home, chosen, after)

    def stop(self):
        runs = [r for r in self.selected_runs() if r.status in ACTIVE]
        self._each(runs, lambda store, r: launcher.stop(store, r.id), "stop")

    def edit_notes(self):
        run = self._one()
        if run is None:
            return
        dialog = RunNotesDialog(run, self)
        if dialog.exec() == RunNotesDialog.Accepted:
            fields = dialog.fields()
            fields["name"] = fields["name"] or run.name
            self._each([run], lambda store, r: store.update_run(r.id, **fields), "save the notes")

    def compare(self):
        runs = self.selected_runs()
        if len(runs) >= 2:
            CompareDialog(runs, self, self.store).exec()

    def parallel_coordinates(self):
        """The runs shown (the filter's), across their differing parameters and the metric columns."""
        from engine.sweeps.scaling import evaluation_figures

        runs = self.shown_runs()
        if runs:
            figures = evaluation_figures(self.store, runs)
            ParallelCoordinatesDialog(runs, list(self.model.metric_columns), figures, self).exec()

    def export(self):
        runs = self.selected_runs()
        if not runs:
            return
        if len(runs) == 1:
            path, _ = QFileDialog.getSaveFileName(self, "Export metrics", f"{runs[0].name}.csv", "CSV (*.csv)")
            targets = [(runs[0], Path(path))] if path else []
        else:
            folder = QFileDialog.getExistingDirectory(self, "Export metrics of the selected runs to")
            targets = [(r, Path(folder) / f"{r.name}-{r.id}.csv") for r in runs] if folder else []
        paths = {r.id: p for r, p in targets}
        self._each([r for r, _ in targets], lambda store, r: export_metrics(store, r, paths[r.id]), "export")

    def delete(self):
        runs = self.selected_runs()
        if not runs:
            return
        active = [r for r in runs if r.status in ACTIVE]
        if active:
            QMessageBox.information(self, "Delete runs", "Stop the running runs before deleting them.")
            return
        names = ", ".join(r.name for r in runs[:5]) + ("…" if len(runs) > 5 else "")
        answer = QMessageBox.question(self, "Delete runs", f"Delete {len(runs)} run(s) ({names}) with their "
                                      "checkpoints and metrics? This cannot be undone.",
                                      QMessageBox.Yes | QMessageBox.Cancel, QMessageBox.Cancel)
        if answer == QMessageBox.Yes:
            self._each(runs, lambda store, r: store.delete_run(r.id), "delete")

    def _menu(self, pos):
        menu = QMenu(self)
        for key in ("open", "clone", "resume", "stop", "notes", "compare", "export", "delete"):
            b = self.buttons[key]
            action = menu.addAction(b.text(), b.click)
            action.setEnabled(b.isEnabled())
        menu.exec(self.table.viewport().mapToGlobal(pos))

    # --- metric columns ---------------------------------------------------------------------------
    def header_menu(self) -> QMenu:
        """A checkable entry per logged metric key: checked ones are columns of the table."""
        menu = QMenu(self)
        menu.setObjectName("metric_columns_menu")
        shown = self.model.metric_columns
        keys = [k for k in dict.fromkeys(self.model.logged_keys() + shown) if k not in COLUMNS]
        if not keys:
            menu.addAction("No metrics logged yet").setEnabled(False)
        for key in keys:
            action = menu.addAction(f"{metric_title(key)}  ({key})")
            action.setCheckable(True)
            action.setChecked(key in shown)
            action.setData(key)
            action.toggled.connect(lambda on, k=key: self.show_metric_column(k, on))
        return menu

    def show_metric_column(self, key: str, on: bool = True) -> None:
        shown = [k for k in self.model.metric_columns if k != key] + ([key] if on else [])
        self.set_metric_columns(shown)

    def set_metric_columns(self, keys: list[str]) -> None:
        chosen = [r.id for r in self.selected_runs()]
        self.model.set_metric_columns(keys)  # a reset: the selection is put back below
        app_settings().setValue(METRIC_COLUMNS_SETTING, json.dumps(self.model.metric_columns))
        self.table.resizeColumnsToContents()
        self.select_ids(chosen)
        self._selection_changed()

    @staticmethod
    def _saved_metric_columns() -> list[str]:
        try:
            keys = json.loads(app_settings().value(METRIC_COLUMNS_SETTING, "[]") or "[]")
        except (TypeError, ValueError):
            return []
        return [k for k in keys if isinstance(k, str)] if isinstance(keys, list) else []

    def shutdown(self) -> None:
        self.writes.finish()
        self.timer.stop()
        self.store.close()
