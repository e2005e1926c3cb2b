"""The left side of the Evaluate view: which runs (checkable list of finished runs), whether
to add the random-initialisation baseline, which protocols with which parameters (forms
generated from the protocol schemas), and which data to evaluate on.

``request()`` turns the choices into an ``EvalRequest`` or raises ParamError with one
sentence, checked with the same ``resolve`` the CLI uses, before any process starts."""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.jobs.eval_job import EvalRequest
from app.widgets.param_form import ParamForm
from engine.evaluation import protocols
from engine.params import ParamError
from engine.runs.status import EVALUABLE, RunStatus
from engine.store.run_record import Run

OWN_DATA = ""
DEFAULT_PROTOCOLS = ("knn", "fewshot")


class EvalSetup(QWidget):
    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.runs: dict[str, Run] = {}
        self.run_list = QListWidget()
        self.run_list.setObjectName("eval_runs")
        self.run_list.setMinimumHeight(110)
        self.run_list.setMaximumHeight(200)
        self.run_list.itemChanged.connect(lambda _: self.changed.emit())
        self.baseline = QCheckBox("include the random-init baseline")
        self.baseline.setObjectName("eval_baseline")
        self.baseline.setToolTip("Also evaluate an untrained backbone of the same architecture, input size and "
                                 "seed as each checked run: the floor every method should beat.")
        runs_box = QGroupBox("Runs")
        runs_layout = QVBoxLayout(runs_box)
        runs_layout.addWidget(self.run_list)
        runs_layout.addWidget(self.baseline)

        protocols_box = QGroupBox("Protocols")
        protocols_layout = QVBoxLayout(protocols_box)
        self.protocol_checks: dict[str, QCheckBox] = {}
        self.protocol_forms: dict[str, ParamForm] = {}
        for pid, cls in protocols.PROTOCOLS.items():
            check = QCheckBox(cls.title)
            check.setObjectName(f"protocol_{pid}")
            check.setToolTip(f"{cls.summary}\n\n{cls.citation}")
            form = ParamForm(cls.params)
            form.setObjectName(f"protocol_form_{pid}")
            form.setContentsMargins(22, 0, 0, 6)
            form.setVisible(False)
            check.toggled.connect(form.setVisible)
            check.toggled.connect(lambda _=False: self.changed.emit())
            check.setChecked(pid in DEFAULT_PROTOCOLS)
            protocols_layout.addWidget(check)
            protocols_layout.addWidget(form)
            self.protocol_checks[pid], self.protocol_forms[pid] = check, form

        data_box = QGroupBox("Evaluation data")
        data_layout = QVBoxLayout(data_box)
        self.data_choice = QComboBox()
        self.data_choice.setObjectName("eval_data")
        self.data_choice.addItem("each run's own data (its test split)", OWN_DATA)
        self.data_choice.currentIndexChanged.connect(self._data_picked)
        self.data_note = QLabel("Other datasets are resized to each run's input size.")
        self.data_note.setProperty("role", "muted")
        self.data_note.setWordWrap(True)
        self.data_forms = QVBoxLayout()
        self.data_form: ParamForm | None = None
        self.device = QComboBox()
        self.device.setObjectName("eval_device")
        self.device.addItems(["auto", "cpu", "cuda"])
        device_row = QHBoxLayout()
        device_row.addWidget(QLabel("device"))
        device_row.addWidget(self.device, 1)
        data_layout.addWidget(self.data_choice)
        data_layout.addWidget(self.data_note)
        data_layout.addLayout(self.data_forms)
        data_layout.addLayout(device_row)

        layout = QVBoxLayout(self)
        layout.addWidget(runs_box)
        layout.addWidget(protocols_box)
        layout.addWidget(data_box)
        layout.addStretch(1)

    # --- runs -----------------------------------------------------------------------------------
    def set_runs(self, runs: list[Run]) -> None:
        """Show the evaluable runs (newest first), keeping what was checked."""
        checked = set(self.checked_runs())
        runs = [r for r in runs if r.status in EVALUABLE]
        self.runs = {r.id: r for r in runs}
        self.run_list.blockSignals(True)
        self.run_list.clear()
        for r in runs:
            extra = "" if r.status == RunStatus.COMPLETED else f", {r.status}"
            item = QListWidgetItem(f"{r.name} · {r.short_id}  ({r.method}, {r.backbone}, {r.dataset}{extra})")
            item.setData(Qt.UserRole, r.id)
            item.setToolTip(f"run {r.id}")
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if r.id in checked else Qt.Unchecked)
            self.run_list.addItem(item)
        self.run_list.blockSignals(False)
        self.changed.emit()

    def checked_runs(self) -> list[str]:
        items = (self.run_list.item(i) for i in range(self.run_list.count()))
        return [it.data(Qt.UserRole) for it in items if it.checkState() == Qt.Checked]

    def check_runs(self, run_ids, on: bool = True) -> None:
        wanted = set(run_ids)
        for i in range(self.run_list.count()):
            item = self.run_list.item(i)
            if item.data(Qt.UserRole) in wanted:
                item.setCheckState(Qt.Checked if on else Qt.Unchecked)

    # --- data -----------------------------------------------------------------------------------
    def set_datasets(self, entries) -> None:
        """entries: ``engine.registry`` dataset entries (after the plugins loaded)."""
        current = self.data_choice.currentData()
        self.data_choice.blockSignals(True)
        while self.data_choice.count() > 1:
            self.data_choice.removeItem(1)
        self.dataset_entries = {e.id: e for e in entries}
        for e in entries:
            self.data_choice.addItem(f"{e.title}  ({e.id})", e.id)
        self.data_choice.setCurrentIndex(max(0, self.data_choice.findData(current)))
        self.data_choice.blockSignals(False)

    def _data_picked(self) -> None:
        if self.data_form is not None:
            self.data_form.deleteLater()
            self.data_form = None
        data_id = self.data_choice.currentData()
        if data_id:
            self.data_form = ParamForm(self.dataset_entries[data_id].schema)
            self.data_form.setObjectName("eval_data_form")
            self.data_forms.addWidget(self.data_form)
        self.changed.emit()

    # --- the request ----------------------------------------------------------------------------
    def chosen_protocols(self) -> list[str]:
        return [pid for pid, check in self.protocol_checks.items() if check.isChecked()]

    def request(self) -> EvalRequest:
        """The evaluation the panel describes; ParamError (one sentence) when it is incomplete."""
        runs = self.checked_runs()
        if not runs:
            raise ParamError("check at least one run to evaluate")
        chosen = self.chosen_protocols()
        if not chosen:
            raise ParamError("check at least one protocol")
        values = {}
        for pid in chosen:
            form = self.protocol_forms[pid]
            errors = form.field_errors()
            if errors:
                name, message = next(iter(errors.items()))
                raise ParamError(f"{protocols.get(pid).title} {name}: {message}")
            protocols.resolve_params(pid, form.values())
            values[pid] = form.values()
        data = None
        if self.data_form is not None:
            from engine import registry

            data_id = self.data_choice.currentData()
            errors = self.data_form.field_errors()
            if errors:
                raise ParamError(f"data {next(iter(errors.items()))[1]}")
            registry.resolve_params("dataset", data_id, self.data_form.values())
            data = {"id": data_id, "params": self.data_form.values()}
        return EvalRequest(runs, values, self.baseline.isChecked(), data, self.device.currentText())

    def expected_jobs(self) -> int:
        """How many (run, protocol) evaluations the request makes: one random baseline per
        distinct backbone, data and seed among the checked runs (as ``random_baseline`` shares them)."""
        runs = [self.runs[r] for r in self.checked_runs() if r in self.runs]
        targets = len(runs)
        if self.baseline.isChecked():
            setups = {repr((r.config["backbone"], r.config["data"], r.config["train"].get("seed")))
                      for r in runs if not r.is_baseline}
            targets += len(setups)
        return targets * max(1, len(self.chosen_protocols()))
