"""Sweeps: pick a method and base configuration (or one of the lecture's study presets), add
axes picked from the plugins' parameter schemas, see how many runs that makes, and Start: the
sweep is validated and stored by the engine (``plan_and_create``, off the Qt thread) and the
queue's scheduler is started (app/jobs/queue_runner.py). Below, every sweep with its progress
and Pause / Resume / Cancel / Plot.

Scaling studies after Goyal, Mahajan, Gupta & Misra (2019): data size and problem complexity
axes, several seeds per point, every run evaluated with linear SVMs and kNN."""
from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.jobs import queue_runner
from app.jobs.background_job import LatestJob
from app.jobs.store_writes import StoreWrites
from engine.params import ParamError, parse_assignments
from engine.store.database import StoreError

REFRESH_MS = 2000
_SET_SPLIT = re.compile(r"[,;]\s*(?=[\w.]+\s*=)")  # "epochs=5, k=20,200" -> ["epochs=5", "k=20,200"]


def narrow(combo: QComboBox, chars: int = 12) -> QComboBox:
    """A combo box whose width does not grow with its longest item (the window fits 800 px)."""
    combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(chars)
    return combo


class AxisRow(QWidget):
    """One axis: a parameter (``section.name`` from the schemas) and its comma-separated values."""

    changed = Signal()
    removed = Signal(object)

    def __init__(self, keys: list[str], key: str = "", values: str = "", parent=None):
        super().__init__(parent)
        self.key_box = narrow(QComboBox())
        self.key_box.setObjectName("axis_key")
        self.key_box.addItems(keys)
        if key and key not in keys:
            self.key_box.addItem(key)
        if key:
            self.key_box.setCurrentText(key)
        self.values_edit = QLineEdit(values)
        self.values_edit.setObjectName("axis_values")
        self.values_edit.setPlaceholderText("values, e.g. 500, 1000, 2000")
        remove = QPushButton("Remove")
        remove.clicked.connect(lambda: self.removed.emit(self))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.key_box, 2)
        layout.addWidget(self.values_edit, 3)
        layout.addWidget(remove)
        self.key_box.currentIndexChanged.connect(self.changed)
        self.values_edit.textChanged.connect(self.changed)

    def axis(self):
        from engine.sweeps.axes import make_axis

        return make_axis(self.key_box.currentText(), [v.strip() for v in self.values_edit.text().split(",")])


class SweepView(QWidget):
    sweep_started = Signal(int)
    plot_requested = Signal(int)

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.writes = StoreWrites(self.home, self)
        self.ready = False
        self.rows: list[AxisRow] = []
        self.study = narrow(QComboBox())
        self.study.setObjectName("sweep_study")
        self.study.activated.connect(lambda _i: self.apply_study(self.study.currentData()))
        self.method, self.data, self.backbone = (narrow(QComboBox()) for _ in range(3))
        for name, box in (("sweep_method", self.method), ("sweep_data", self.data), ("sweep_backbone", self.backbone)):
            box.setObjectName(name)
            box.currentIndexChanged.connect(self._plugins_changed)
        self.preset = QComboBox()
        self.preset.setObjectName("sweep_preset")
        self.sets = QLineEdit()
        self.sets.setObjectName("sweep_sets")
        self.sets.setPlaceholderText("base values of every run, e.g. epochs=5, batch_size=32")
        self.combine = QComboBox()
        self.combine.setObjectName("sweep_combine")
        self.combine.addItem("every combination (grid)", "grid")
        self.combine.addItem("in step (zip)", "zip")
        self.concurrency = QSpinBox()
        self.concurrency.setRange(0, 64)
        self.concurrency.setSpecialValueText("every free slot")
        self.protocols: dict[str, QCheckBox] = {}
        self.axes_box = QVBoxLayout()
        add = QPushButton("Add axis")
        add.clicked.connect(lambda: self.add_axis())
        self.count = QLabel()
        self.count.setObjectName("sweep_count")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("sweep_message")
        self.start = QPushButton("Start sweep")
        self.start.setObjectName("sweep_start")
        self.start.setProperty("role", "primary")
        self.start.clicked.connect(self.start_sweep)
        self.sets.textChanged.connect(self._update_count)
        self.combine.currentIndexChanged.connect(self._update_count)
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("sweep_table")
        self.table.setHorizontalHeaderLabels(["#", "name", "status", "runs", "done / evaluated", "waiting"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectRows)
        self.table.setEditTriggers(QTableWidget.NoEditTriggers)
        self.setLayout(self._layout(add))
        self.create_job, self.list_job = LatestJob(self), LatestJob(self)
        self.create_job.done.connect(self._created)
        self.create_job.error.connect(self._refused)
        self.list_job.done.connect(self._listed)
        self.timer = QTimer(self, interval=REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def _layout(self, add: QPushButton) -> QVBoxLayout:
        form = QFormLayout()
        for label, w in (("Study preset", self.study), ("Method", self.method), ("Dataset", self.data),
                         ("Backbone", self.backbone), ("Preset", self.preset), ("Base values", self.sets),
                         ("Axes combine", self.combine), ("At once", self.concurrency)):
            form.addRow(label, w)
        setup = QGroupBox("New sweep")
        column = QVBoxLayout(setup)
        column.addLayout(form)
        column.addWidget(QLabel("Axes"))
        column.addLayout(self.axes_box)
        column.addWidget(add)
        column.addWidget(QLabel("Evaluate every run with"))
        self.protocol_row = QGridLayout()
        column.addLayout(self.protocol_row)
        row = QHBoxLayout()
        row.addWidget(self.count, 1)
        row.addWidget(self.start)
        column.addLayout(row)
        column.addWidget(self.message)
        buttons = QHBoxLayout()
        for title, slot in (("Pause", "pause"), ("Resume", "resume"), ("Cancel", "cancel")):
            b = QPushButton(title)
            b.setObjectName(f"sweep_{slot}")
            b.clicked.connect(lambda _=False, s=slot: self.steer(s))
            buttons.addWidget(b)
        plot = QPushButton("Scaling plot")
        plot.setObjectName("sweep_plot")
        plot.clicked.connect(lambda: self.selected() is not None and self.plot_requested.emit(self.selected()))
        buttons.addWidget(plot)
        buttons.addStretch(1)
        layout = QVBoxLayout()
        layout.addWidget(setup)
        layout.addWidget(QLabel("Sweeps"))
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        return layout

    # --- plugins and presets ----------------------------------------------------------------------
    def plugins_loaded(self) -> None:
        from engine import registry
        from engine.evaluation import protocols
        from engine.sweeps.spec import DEFAULT_PROTOCOLS
        from engine.sweeps.studies import STUDIES
        from engine.training.presets import DEFAULT_PRESET, PRESETS

        for box, kind, current in ((self.method, "method", "jigsaw"), (self.data, "dataset", "shapes"),
                                   (self.backbone, "backbone", "convnet")):
            box.blockSignals(True)
            for e in registry.entries(kind):
                box.addItem(f"{e.title} ({e.id})", e.id)
            box.setCurrentIndex(max(0, box.findData(current)))
            box.blockSignals(False)
        for p in PRESETS.values():
            self.preset.addItem(p.title, p.id)
        self.preset.setCurrentIndex(self.preset.findData(DEFAULT_PRESET))
        self.study.addItem("(none: pick the axes below)", None)
        for s in STUDIES.values():
            self.study.addItem(s.title, s.id)
        for pid, cls in protocols.PROTOCOLS.items():
            box = QCheckBox(cls.title)
            box.setObjectName(f"protocol_{pid}")
            box.setChecked(pid in DEFAULT_PROTOCOLS)
            self.protocols[pid] = box
            self.protocol_row.addWidget(box, (len(self.protocols) - 1) // 4, (len(self.protocols) - 1) % 4)
        self.ready = True
        self._plugins_changed()

    def axis_keys(self) -> list[str]:
        """``section.name`` of every parameter of the chosen plugins and of training."""
        from engine import registry
        from engine.training.config import TRAIN_PARAMS

        keys = []
        for section, kind, box in (("data", "dataset", self.data), ("method", "method", self.method),
                                   ("backbone", "backbone", self.backbone)):
            if box.currentData():
                keys += [f"{section}.{p.name}" for p in registry.get(kind, box.currentData()).schema]
        return keys + [f"train.{p.name}" for p in TRAIN_PARAMS] + ["backbone"]

    def _plugins_changed(self, *_):
        if not self.ready:
            return
        keys = self.axis_keys()
        for row in self.rows:
            current = row.key_box.currentText()
            row.key_box.blockSignals(True)
            row.key_box.clear()
            row.key_box.addItems(keys)
            row.key_box.setCurrentText(current)
            row.key_box.blockSignals(False)
        self._update_count()

    def add_axis(self, key: str = "", values: str = "") -> AxisRow:
        row = AxisRow(self.axis_keys() if self.ready else [], key, values)
        row.changed.connect(self._update_count)
        row.removed.connect(self._remove_axis)
        self.rows.append(row)
        self.axes_box.addWidget(row)
        self._update_count()
        return row

    def _remove_axis(self, row: AxisRow) -> None:
        self.rows.remove(row)
        row.setParent(None)
        row.deleteLater()
        self._update_count()

    def apply_study(self, study_id: str | None) -> None:
        from engine.sweeps.studies import get_study

        if not study_id:
            return
        study = get_study(study_id)
        self.method.setCurrentIndex(self.method.findData(study.method))
        for row in list(self.rows):
            self._remove_axis(row)
        for axis in study.axes:
            self.add_axis(axis.key, ", ".join(map(str, axis.values)))

    # --- the sweep ----------------------------------------------------------------------------------------
    def spec(self):
        """The SweepSpec the form describes; ParamError (one sentence) for a malformed axis or value."""
        from engine.sweeps.axes import Combine
        from engine.sweeps.spec import SweepSpec

        text = self.sets.text().strip()
        sets = parse_assignments([s.strip() for s in _SET_SPLIT.split(text)] if text else [])
        return SweepSpec(method=self.method.currentData(), data=self.data.currentData(),
                         backbone=self.backbone.currentData(), preset=self.preset.currentData(), sets=sets,
                         axes=tuple(row.axis() for row in self.rows), combine=Combine(self.combine.currentData()),
                         protocols=tuple(p for p, box in self.protocols.items() if box.isChecked()),
                         concurrency=self.concurrency.value(),
                         name=self.study.currentText() if self.study.currentData() else "")

    def _update_count(self, *_):
        try:
            spec = self.spec()
            from engine.sweeps.axes import check_axes

            check_axes(list(spec.axes), spec.combine)
            n = spec.run_count
            self.count.setText(f"{n} run{'s' if n != 1 else ''}")
            self.start.setEnabled(self.ready and bool(spec.axes))
        except (ParamError, ValueError) as e:
            self.count.setText(str(e))
            self.start.setEnabled(False)

    def start_sweep(self) -> None:
        from engine.store.sweep_record import plan_and_create

        try:
            spec = self.spec()
        except ParamError as e:
            self._refused(str(e))
            return
        self.start.setEnabled(False)
        self.message.setText(f"checking {spec.run_count} runs…")
        self.create_job.submit(lambda: plan_and_create(self.home, spec), sentences=(ParamError, StoreError))

    def _created(self, result) -> None:
        sweep_id, n = result
        self.message.setText(f"sweep {sweep_id}: {n} runs queued")
        self.start.setEnabled(True)
        queue_runner.ensure_running(self.home)
        self.refresh()
        self.sweep_started.emit(sweep_id)

    def _refused(self, message: str) -> None:
        self.message.setText(message)
        self.start.setEnabled(True)

    # --- the list ------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        from engine.store.sweep_record import summaries

        if not self.list_job.running:
            self.list_job.submit(lambda: summaries(self.home), sentences=(StoreError,))

    def _listed(self, result) -> None:
        from engine.runs.status import RunStatus
        from engine.sweeps.status import SweepStatus

        rows, _pending = result
        waiting = any(s.pending and s.sweep.status == SweepStatus.ACTIVE for s in rows)
        if waiting and not queue_runner.running():  # work waits and no scheduler of ours serves it
            queue_runner.ensure_running(self.home)
        chosen = self.selected()
        self.table.setRowCount(len(rows))
        for i, s in enumerate(rows):
            done = s.by_status.get(RunStatus.COMPLETED, 0)
            cells = (s.sweep.id, s.sweep.name, s.sweep.status, s.sweep.runs, f"{done} / {s.evaluated}", s.pending)
            for j, value in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(str(value)))
            if s.sweep.id == chosen:
                self.table.selectRow(i)

    def selected(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        item = self.table.item(rows[0].row(), 0) if rows else None
        return int(item.text()) if item else None

    def steer(self, action: str) -> None:
        """Pause, resume or cancel the selected sweep (off the main thread); then a refresh."""
        from engine.sweeps import control

        sweep_id = self.selected()
        if sweep_id is None:
            return

        def said(text: str) -> None:
            self.message.setText(text)
            self.refresh()

        self.writes.submit(lambda store: getattr(control, action)(store, sweep_id),
                           lambda _: said(f"sweep {sweep_id}: {action} done"), said)

    def shutdown(self) -> None:
        self.writes.finish()
        self.timer.stop()
