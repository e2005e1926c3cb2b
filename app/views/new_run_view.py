"""New run: pick dataset, method and backbone, set their parameters and the training
settings, preview the data and the method's inputs, and Start a worker.

Forms come from the plugins' schemas; validation is ``engine.train_config.build_config``,
the same the CLI uses, so the GUI accepts exactly what the engine accepts."""
from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.jobs import queue_runner
from app.jobs.store_writes import StoreWrites
from app.settings import app_settings
from app.widgets.augment_preview import AugmentPreview
from app.widgets.data_preview import DataPreview
from app.widgets.form_and_view import form_and_view, vertical_scroll
from app.widgets.param_form import ParamForm
from app.widgets.plugin_picker import PluginPicker
from engine.params import ParamError
from engine.store import queue_table
from engine.training.config import TRAIN_PARAMS, build_config
from engine.training.presets import DEFAULT_PRESET, PRESETS, get_preset

PICKERS = (("data", "dataset", "Dataset"), ("method", "method", "Method"), ("backbone", "backbone", "Backbone"))
PREVIEW_DELAY_MS = 400


class NewRunView(QWidget):
    run_started = Signal(str)

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.writes = StoreWrites(self.home, self)
        self.ready = False
        self.config: dict | None = None
        self.pickers: dict[str, PluginPicker] = {}
        self.forms: dict[str, ParamForm] = {}
        self.form_boxes: dict[str, QVBoxLayout] = {}
        self._preview_key = {"data": None, "augment": None}

        self.name = QLineEdit()
        self.name.setObjectName("run_name")
        self.name.setPlaceholderText("run name (optional: method-backbone-dataset)")
        self.loading = QLabel("Loading plugins…")
        self.loading.setProperty("role", "muted")
        self.preset = QComboBox()
        self.preset.setObjectName("preset")
        for preset in PRESETS.values():
            self.preset.addItem(preset.title, preset.id)
            self.preset.setItemData(self.preset.count() - 1, preset.summary, Qt.ToolTipRole)
        self.preset.setToolTip("Fills every form below with a preset's values; each field stays editable.")
        self.preset.activated.connect(lambda _index: self.apply_preset(self.preset.currentData()))
        preset_row = QHBoxLayout()
        preset_row.addWidget(QLabel("Preset"))
        preset_row.addWidget(self.preset, 1)
        column = QVBoxLayout()
        column.addWidget(self.loading)
        column.addLayout(preset_row)
        column.addWidget(self.name)
        for section, kind, title in PICKERS:
            column.addWidget(self._plugin_group(section, kind, title))
        train_box = QGroupBox("Training")
        self.forms["train"] = ParamForm(TRAIN_PARAMS)
        self.forms["train"].changed.connect(self._changed)
        QVBoxLayout(train_box).addWidget(self.forms["train"])
        column.addWidget(train_box)
        column.addStretch(1)
        holder = QWidget()
        holder.setLayout(column)

        self.reason = QLabel("")
        self.reason.setObjectName("start_reason")
        self.reason.setWordWrap(True)
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("start")
        self.start_button.setEnabled(False)
        self.start_button.setMinimumWidth(120)
        self.start_button.clicked.connect(self.start)
        bottom = QHBoxLayout()
        bottom.addWidget(self.reason, 1)
        bottom.addWidget(self.start_button)

        self.data_preview = DataPreview(self.home)
        self.augment_preview = AugmentPreview(self.home)
        self.previews = QTabWidget()
        self.previews.addTab(self.data_preview, "Data")
        self.previews.addTab(self.augment_preview, "Augmentations")
        layout = QVBoxLayout(self)
        layout.addWidget(form_and_view(vertical_scroll(holder, 440), self.previews, (460, 640)), 1)
        layout.addLayout(bottom)

        self.preview_timer = QTimer(self, singleShot=True, interval=PREVIEW_DELAY_MS)
        self.preview_timer.timeout.connect(self._refresh_previews)
        self._set_reason("Loading plugins…", ok=False)

    def _plugin_group(self, section: str, kind: str, title: str) -> QGroupBox:
        box = QGroupBox(title)
        layout = QVBoxLayout(box)
        picker = PluginPicker(kind)
        picker.changed.connect(lambda _id, s=section: self._picked(s))
        layout.addWidget(picker)
        forms = QVBoxLayout()
        layout.addLayout(forms)
        self.pickers[section], self.form_boxes[section] = picker, forms
        return box

    # --- plugins --------------------------------------------------------------------------------
    def plugins_loaded(self) -> None:
        """Fill the pickers from the registry and restore the last choices."""
        from engine import registry

        last = self._last_choices()
        first = get_preset(DEFAULT_PRESET)
        for section, kind, _ in PICKERS:
            current = last.get(section, {}).get("id") or first.plugins[section]
            self.pickers[section].set_entries(registry.entries(kind), current)
        self.ready = True
        self.loading.hide()
        if not last:  # a first start: the quick preset, so the first run learns in minutes
            self.apply_preset(DEFAULT_PRESET)
            return
        for section in ("data", "method", "backbone", "train"):
            self.forms[section].set_values(last.get(section, {}).get("params", {}))
        self._changed()

    def apply_preset(self, preset_id: str) -> None:
        """The preset's plugins, every field at its default with the preset's values over it."""
        preset = get_preset(preset_id)
        self.preset.setCurrentIndex(max(0, self.preset.findData(preset.id)))
        for section, _, _ in PICKERS:
            if section in preset.plugins:
                self.pickers[section].set_current(preset.plugins[section])
        for section in ("data", "method", "backbone", "train"):
            form = self.forms[section]
            form.set_values({p.name: p.default for p in form.schema} | preset.values_for(section, form.schema))
        self._changed()

    def _picked(self, section: str) -> None:
        from engine import registry

        old = self.forms.pop(section, None)
        if old is not None:  # out of the layout now: deleteLater waits for the event loop
            self.form_boxes[section].removeWidget(old)
            old.hide()
            old.deleteLater()
        kind = dict((s, k) for s, k, _ in PICKERS)[section]
        entry = registry.get(kind, self.pickers[section].current_id())
        form = ParamForm(entry.schema)
        form.setObjectName(f"form_{section}")
        form.changed.connect(self._changed)
        self.form_boxes[section].addWidget(form)
        self.forms[section] = form
        if self.ready:
            self._changed()

    # --- validation -----------------------------------------------------------------------------
    def ids(self) -> dict:
        return {s: self.pickers[s].current_id() for s, _, _ in PICKERS}

    def form_values(self) -> dict:
        return {s: self.forms[s].values() for s in ("data", "method", "backbone")}

    def validate(self) -> dict | None:
        """The config the form describes, or None with the reason shown and the field marked."""
        if not self.ready:
            return None
        for section, form in self.forms.items():
            errors = form.field_errors()
            if errors:
                name, message = next(iter(errors.items()))
                return self._invalid(f"{section} {name}: {message}" if section not in message else message)
        ids = self.ids()
        try:
            config = build_config(ids["data"], ids["method"], ids["backbone"], train=self.forms["train"].values(),
                                  params=self.form_values())
        except ParamError as e:
            for form in self.forms.values():  # mark the field the sentence names
                for name in form.editors:
                    if f" {name} " in f" {e} ".replace(":", " "):
                        form.mark(name, str(e))
            return self._invalid(str(e))
        self._set_reason("Ready: Start trains this configuration in a background worker.", ok=True)
        self.start_button.setEnabled(True)
        return config

    def _invalid(self, message: str):
        self._set_reason(f"Cannot start: {message}", ok=False)
        self.start_button.setEnabled(False)
        return None

    def _set_reason(self, text: str, ok: bool) -> None:
        self.reason.setText(text)
        self.reason.setProperty("role", "muted" if ok else "error")
        self.reason.style().unpolish(self.reason)
        self.reason.style().polish(self.reason)

    def _changed(self) -> None:
        self.config = self.validate()
        if self.config is not None:
            self.preview_timer.start()
            return
        if self.ready:  # what the previews show belongs to an earlier choice: clear it, say why
            self.preview_timer.stop()
            reason = self.reason.text().removeprefix("Cannot start: ")
            data_problem = self._data_problem()
            if data_problem is not None:
                self._preview_key["data"] = None
                self.data_preview.show_error(data_problem)
            self._preview_key["augment"] = None
            self.augment_preview.show_error(data_problem or reason)

    def _data_problem(self) -> str | None:
        """Why the chosen dataset's settings cannot be used, or None when they can."""
        from engine import registry

        form = self.forms.get("data")
        errors = form.field_errors() if form is not None else {}
        if errors:
            name, message = next(iter(errors.items()))
            return message if name in message else f"{name}: {message}"
        try:
            registry.resolve_params("dataset", self.ids()["data"], self.form_values()["data"])
        except ParamError as e:
            return str(e)
        return None

    def _refresh_previews(self) -> None:
        config = self.config
        if config is None:
            return
        data_key = json.dumps(config["data"], sort_keys=True)
        if data_key != self._preview_key["data"]:
            self._preview_key["data"] = data_key
            self.data_preview.request(config["data"]["id"], config["data"]["params"])
        aug_key = json.dumps([config["data"], config["method"], config["backbone"]], sort_keys=True)
        if aug_key != self._preview_key["augment"]:
            self._preview_key["augment"] = aug_key
            self.augment_preview.request(config)

    # --- start, clone ---------------------------------------------------------------------------
    def start(self) -> None:
        """Queue the form's run (off the main thread: the store may be locked by another
        program); it starts when a device slot is free (one run per device by default), and
        ``run_started`` says its id once it is queued."""
        config = self.validate()
        if config is None:
            return
        name = self.name.text().strip()
        self.start_button.setEnabled(False)  # one press, one run
        self.writes.submit(lambda store: queue_table.enqueue_run(store, config, name),
                           lambda run_id: self._queued(run_id, config), self._not_queued)

    def _queued(self, run_id: str, config: dict) -> None:
        self.validate()  # Start is enabled again
        try:
            queue_runner.ensure_running(self.home)
        except OSError as e:
            QMessageBox.warning(self, "Could not start the run queue",
                                f"The run is queued, but the queue's scheduler did not start: {e}")
            return
        self._remember(config)
        self.name.clear()
        self.run_started.emit(run_id)

    def _not_queued(self, message: str) -> None:
        self.validate()
        QMessageBox.warning(self, "Could not queue the run", message)

    def load_config(self, config: dict, name: str = "") -> None:
        """Pre-fill the form from a stored run's config (clone); every field stays editable."""
        for section, _, _ in PICKERS:
            self.pickers[section].set_current(config[section]["id"])
        for section in ("data", "method", "backbone", "train"):
            self.forms[section].set_values(config[section].get("params", config[section]))
        self.name.setText(name)
        self._changed()

    def _remember(self, config: dict) -> None:
        settings = app_settings()
        settings.setValue("new_run/last", json.dumps(
            {s: config[s] for s in ("data", "method", "backbone")} | {"train": {"params": config["train"]}}))

    def _last_choices(self) -> dict:
        try:
            return json.loads(app_settings().value("new_run/last", "{}") or "{}")
        except (TypeError, ValueError):
            return {}
