"""Monitor: one run live, whoever started it. Status, progress, ETA and images/s; curves of
loss, the method's accuracy, learning rate and kNN accuracy, appended as the worker writes
them, and a System group with the CPU, memory and GPU keys the run logs; the worker's log;
Stop, Pause, Resume through the store."""
from __future__ import annotations

import collections
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.formatting import duration, number
from app.jobs import launcher
from app.jobs.store_poller import StorePoller
from app.jobs.store_writes import StoreWrites
from app.plots.curve_plot import CurvePlot
from app.plots.method_metrics import accuracy_key, chance_level
from app.plots.system_plots import SYSTEM_KEYS, SystemPlots
from app.views.resume_prompt import resume_runs
from app.widgets.buttons import push_button
from app.widgets.log_tail import LogTail
from engine.metric_labels import metric_title
from engine.runs.paths import RunPaths
from engine.runs.status import ACTIVE, ERRORED, RESUMABLE, RunStatus
from engine.store.run_record import Run
from engine.training.reference import CHANCE_KEY, RANDOM_INIT_KEY

REFERENCE_LABELS = {CHANCE_KEY: "chance", RANDOM_INIT_KEY: "random init"}
PLOTS = (("loss", "Loss"), ("accuracy", "Method accuracy"), ("lr", "Learning rate"), ("knn_acc", "kNN accuracy"))
SELECTOR_REFRESH_MS = 3000


class MonitorView(QWidget):
    run_selected = Signal(str)
    run_ended = Signal(object)  # the Run, when the run followed went from active to an end state

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.run: Run | None = None
        self.acc_key = "contrastive_acc"
        self.img_per_s = None
        self.latencies = collections.deque(maxlen=20000)  # seconds from a row's time to its plotting
        self.poller = StorePoller(self.home, self)
        self.writes = StoreWrites(self.home, self)
        self.poller.run_changed.connect(self._run_changed)
        self.poller.rows_arrived.connect(self._rows)
        self.poller.run_missing.connect(lambda _id: self.show_run(None))

        self.selector = QComboBox()
        self.selector.setObjectName("run_selector")
        self.selector.setMinimumWidth(320)
        self.selector.activated.connect(lambda i: self.show_run(self.selector.itemData(i)))
        self.status = QLabel("No run selected")
        self.status.setObjectName("run_status")
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.rate = QLabel()
        self.stop_button = QPushButton("Stop")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        for b, slot in ((self.stop_button, self.stop), (self.pause_button, self.pause),
                        (self.resume_button, self.resume)):
            b.setObjectName(b.text().lower())
            b.clicked.connect(slot)
        top = QHBoxLayout()
        top.addWidget(QLabel("Run"))
        top.addWidget(self.selector)
        top.addWidget(self.status, 1)
        for b in (self.stop_button, self.pause_button, self.resume_button):
            top.addWidget(b)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress, 1)
        progress_row.addWidget(self.rate)

        self.error = QLabel()
        self.error.setObjectName("run_error")
        self.error.setWordWrap(True)
        self.error.setProperty("role", "error")
        self.error.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.resume_checkpoint = push_button("Resume from last checkpoint", "resume_checkpoint", self.resume)
        self.error_panel = QWidget()
        error_row = QHBoxLayout(self.error_panel)
        error_row.setContentsMargins(0, 0, 0, 0)
        error_row.addWidget(self.error, 1)
        error_row.addWidget(self.resume_checkpoint)
        self.error_panel.hide()

        self.x_axis = QComboBox()
        self.x_axis.addItems(["step", "epoch", "time"])
        self.x_axis.currentTextChanged.connect(self._set_x_mode)
        self.smoothing = QSlider(Qt.Horizontal)
        self.smoothing.setRange(0, 99)
        self.smoothing.setMaximumWidth(160)
        self.smoothing.setToolTip("exponential moving average weight (0: raw values)")
        self.smoothing.valueChanged.connect(self._set_smoothing)
        self.smoothing_label = QLabel("smoothing 0.00")
        self.log_y = QCheckBox("log y")
        self.log_y.toggled.connect(self._set_log_y)
        options = QHBoxLayout()
        options.addWidget(QLabel("x axis"))
        options.addWidget(self.x_axis)
        options.addSpacing(16)
        options.addWidget(self.smoothing_label)
        options.addWidget(self.smoothing)
        options.addSpacing(16)
        options.addWidget(self.log_y)
        options.addStretch(1)

        self.plots = {key: CurvePlot(title, symbols=key == "knn_acc") for key, title in PLOTS}
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        for i, plot in enumerate(self.plots.values()):
            grid.addWidget(plot, i // 2, i % 2)
        self.system = SystemPlots()
        grid.addWidget(self.system, 2, 0, 1, 2)
        self.log = LogTail()
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(grid_widget)
        splitter.addWidget(self.log)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(progress_row)
        layout.addWidget(self.error_panel)
        layout.addLayout(options)
        layout.addWidget(splitter, 1)

        self.selector_timer = QTimer(self, interval=SELECTOR_REFRESH_MS)
        self.selector_timer.timeout.connect(self.refresh_selector)
        self.selector_timer.start()
        self.log_timer = QTimer(self, interval=500)
        self.log_timer.timeout.connect(self.log.refresh)
        self.log_timer.start()
        self.refresh_selector()
        self._update_buttons()

    # --- which run ----------------------------------------------------------------------------
    def refresh_selector(self) -> None:
        if self.selector.view().isVisible():
            return  # never rebuild a list the user is looking at
        runs = self.poller.store.list_runs(limit=500)
        current = self.run.id if self.run else None
        self.selector.blockSignals(True)
        self.selector.clear()
        for r in runs:
            self.selector.addItem(f"{r.name}  [{r.status}]  {r.id}", r.id)
        index = self.selector.findData(current) if current else -1
        self.selector.setCurrentIndex(index)
        self.selector.blockSignals(False)

    def show_run(self, run_id: str | None) -> None:
        for plot in self.plots.values():  # curves, reference lines, legend and axis ranges of the old run go
            plot.clear_series()
            plot.time_origin = None
        self.system.clear()
        self.system.set_time_origin(None)
        self._set_accuracy_title(dict(PLOTS)["accuracy"])
        self.run, self.img_per_s = None, None
        self.error_panel.hide()
        self.status.setText("No run selected" if run_id is None else "Loading…")
        self.progress.setValue(0)
        self.rate.setText("")
        self.log.follow(None if run_id is None else RunPaths(self.home).run(run_id).log)
        self.poller.watch(run_id)
        self.refresh_selector()
        self._update_buttons()
        if run_id is not None:
            self.run_selected.emit(run_id)

    # --- store updates ----------------------------------------------------------------------------
    def _run_changed(self, run: Run) -> None:
        resumed = self.run is not None and self.run.status != RunStatus.RUNNING and run.status == RunStatus.RUNNING
        ended = self.run is not None and self.run.id == run.id and self.run.status in ACTIVE and run.status not in ACTIVE
        self.run = run
        for plot in self.plots.values():  # one time axis for every curve: wall time since the run started
            plot.time_origin = run.started or run.created
        self.system.set_time_origin(run.started or run.created)
        self.acc_key = accuracy_key(run.method, self.plots["accuracy"].series)
        self._set_accuracy_title(metric_title(self.acc_key))
        chance = chance_level(run)
        if chance is not None:  # dashed: the method's chance level
            self.plots["accuracy"].set_reference("chance", chance)
        if resumed:  # a resumed worker rewrote the metrics after its checkpoint
            self._reload()
        self._show_status()
        if ended:
            self.run_ended.emit(run)

    def _set_accuracy_title(self, title: str) -> None:
        self.plots["accuracy"].set_title(title)

    def _reload(self) -> None:
        for plot in self.plots.values():
            plot.clear_series()
        self.system.clear()
        self.poller.reload()

    def _rows(self, rows: list) -> None:
        if self.run is None:
            return
        by_key: dict[str, list] = {}
        for r in rows:
            by_key.setdefault(r["key"], []).append(r)
        if self.acc_key not in by_key and self.acc_key not in self.plots["accuracy"].series:
            self.acc_key = accuracy_key(self.run.method, by_key)
        for key, label in REFERENCE_LABELS.items():
            for r in by_key.get(key, [])[-1:]:
                self.plots["knn_acc"].set_reference(label, r["value"])
        targets = {"loss": "loss", self.acc_key: "accuracy", "lr": "lr", "knn_acc": "knn_acc"}
        for key, plot_name in targets.items():
            group = by_key.get(key)
            if not group:
                continue
            plot = self.plots[plot_name]
            buf = plot.series.get(key)
            if buf is not None and group[0]["step"] <= buf.last_step():
                self._reload()  # the tail was rewritten (resume); read it all again
                return
            plot.append(key, [r["step"] for r in group], [r["epoch"] for r in group],
                        [r["time"] for r in group], [r["value"] for r in group],
                        color_index=[name for name, _ in PLOTS].index(plot_name))
        for key in SYSTEM_KEYS:
            group = by_key.get(key)
            if not group:
                continue
            if group[0]["step"] < self.system.last_step(key):  # an earlier step: a resume rewrote the tail
                self._reload()
                return
            self.system.append(key, group)
        if "img_per_s" in by_key:
            for r in by_key["img_per_s"]:
                v = r["value"]
                self.img_per_s = v if self.img_per_s is None else 0.9 * self.img_per_s + 0.1 * v
        now = time.time()
        self.latencies.extend(now - r["time"] for r in rows)  # every row: batching delays the oldest most
        self._show_status()

    def _show_status(self) -> None:
        run = self.run
        if run is None:
            return
        total, step = run.total_steps or 0, run.step or 0
        epochs = run.config["train"].get("epochs", 1)
        per_epoch = total / epochs if total and epochs else 0
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(min(step, max(total, 1)))
        epoch_text = f"epoch {step / per_epoch:.2f}/{epochs}" if per_epoch else f"{epochs} epochs"
        self.progress.setFormat(f"{epoch_text} · step {step}/{total} (%p%)")
        status = run.status
        parts = [f"<b>{run.name}</b>: {status}"]
        if run.device:
            parts.append(f"on {run.device}")
        self.status.setText(" ".join(parts))
        rate = ""
        if self.img_per_s and status == RunStatus.RUNNING:
            batch = run.config["train"].get("batch_size", 1)
            eta = (total - step) * batch / self.img_per_s
            rate = f"{self.img_per_s:,.0f} img/s · ETA {duration(eta)}"
        latest_loss = self.plots["loss"].series.get("loss")
        if latest_loss is not None and latest_loss.n:
            rate += f" · loss {number(latest_loss.ys()[-1])}"
        self.rate.setText(rate.strip(" ·"))
        failed = status in ERRORED
        self.error_panel.setVisible(failed)
        if failed:
            has_ckpt = RunPaths(self.home).run(run.id).last_checkpoint.exists()
            self.error.setText(f"This run {status}: {run.error or 'no reason was recorded'}")
            self.resume_checkpoint.setText("Resume from last checkpoint" if has_ckpt else "Restart from the beginning")
        self._update_buttons()

    def _update_buttons(self) -> None:
        status = self.run.status if self.run else ""
        self.stop_button.setEnabled(status in ACTIVE)
        self.pause_button.setEnabled(status == RunStatus.RUNNING)
        self.resume_button.setEnabled(status in RESUMABLE)

    # --- actions ------------------------------------------------------------------------------------
    def _act(self, write) -> None:
        """``write(store, run_id)`` for the run shown, off the main thread; then a poll."""
        if self.run is None:
            return
        run_id = self.run.id
        self.writes.submit(lambda store: write(store, run_id), lambda _: self.poller.poll(),
                           lambda message: (QMessageBox.warning(self, "Pretext", message), self.poller.poll()))

    def stop(self) -> None:
        self._act(launcher.stop)

    def pause(self) -> None:
        self._act(lambda store, rid: launcher.pause(store, rid, True))

    def resume(self) -> None:
        """A paused run goes on in its worker; a stopped, crashed or failed one is queued again
        (without a checkpoint, the user is asked whether to start it afresh)."""
        if self.run is not None:
            resume_runs(self, self.writes, self.home, [self.run], self.poller.poll)

    # --- view options --------------------------------------------------------------------------------
    def _set_x_mode(self, mode: str) -> None:
        for plot in self.plots.values():
            plot.set_x_mode(mode)
        self.system.set_x_mode(mode)

    def _set_log_y(self, on: bool) -> None:
        for plot in self.plots.values():
            plot.set_log_y(on)
        self.system.set_log_y(on)

    def _set_smoothing(self, value: int) -> None:
        weight = value / 100
        self.smoothing_label.setText(f"smoothing {weight:.2f}")
        for key in ("loss", "accuracy"):
            self.plots[key].set_smoothing(weight)

    def shutdown(self) -> None:
        self.writes.finish()
        self.selector_timer.stop()
        self.log_timer.stop()
        self.poller.close()
