"""The workbench window: New run, Runs, Monitor, Evaluate, Sweeps and Scaling views, menus with their shortcuts, and a
status bar with the training device and the number of runs in progress.

The window is shown before torch is imported: plugins load on a thread afterwards
(``PluginLoader``) and the New run view waits for them with "Loading plugins…"."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from app import theme
from app.jobs import launcher, queue_runner
from app.jobs.plugin_loader import PluginLoader
from app.jobs.store_poller import gui_store
from app.settings import app_settings
from app.views.close_prompt import CANCEL, STOP, ask_about_active_runs
from app.views.evaluate_view import EvaluateView
from app.views.monitor_view import MonitorView
from app.views.new_run_view import NewRunView
from app.views.plugin_trust_dialog import PluginTrustDialog
from app.views.runs_view import RunsView
from app.views.scaling_view import ScalingView
from app.views.sweep_view import SweepView
from app.widgets.run_notifier import RunNotifier, notifications_enabled, set_notifications_enabled
from engine.runs.paths import RunPaths
from engine.runs.status import ACTIVE, RunStatus
from engine.store.database import StoreError
from engine.store.run_record import Run

VIEWS = (("new", "New run", "Ctrl+N"), ("runs", "Runs", "Ctrl+R"), ("monitor", "Monitor", "Ctrl+M"),
         ("evaluate", "Evaluate", "Ctrl+E"), ("sweeps", "Sweeps", "Ctrl+G"), ("scaling", "Scaling", "Ctrl+L"))
STATUS_REFRESH_MS = 2000


class ViewKeysFirst(QObject):
    """Text fields claim Ctrl+E (end of line) and Ctrl+N before a window shortcut sees them;
    the view shortcuts win while the focus is anywhere in this window."""

    def __init__(self, keys: set, window):
        super().__init__(window)
        self.keys, self.window = keys, window

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.ShortcutOverride and isinstance(obj, QWidget) and obj.window() is self.window:
            if QKeySequence(event.keyCombination()) in self.keys:
                event.ignore()  # not claimed by the field: the shortcut map gets the key
                return True
        return False


class MainWindow(QMainWindow):
    first_shown = Signal(float)   # time.time() of the first show event
    plugins_ready = Signal()

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.shown_at: float | None = None
        self.plugin_failures: list = []
        self.setWindowTitle(f"Pretext — {self.home}")
        self.store = gui_store(self.home)
        self.new_run = NewRunView(self.home)
        self.runs = RunsView(self.home)
        self.monitor = MonitorView(self.home)
        self.evaluate = EvaluateView(self.home)
        self.sweeps = SweepView(self.home)
        self.scaling = ScalingView(self.home)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.views = {"new": self.new_run, "runs": self.runs, "monitor": self.monitor, "evaluate": self.evaluate,
                      "sweeps": self.sweeps, "scaling": self.scaling}
        for key, title, _ in VIEWS:
            self.tabs.addTab(self.views[key], title)
        self.setCentralWidget(self.tabs)

        self.new_run.run_started.connect(self.monitor_run)
        self.runs.open_requested.connect(self.monitor_run)
        self.runs.clone_requested.connect(self.clone)
        self.sweeps.plot_requested.connect(self.show_scaling)
        self.sweeps.sweep_started.connect(self.show_scaling)
        self.notifier = RunNotifier(self)
        self.monitor.run_ended.connect(self.notifier.run_ended)
        self.started_here: set[str] = set()  # runs started or resumed from this window, still active
        self.new_run.run_started.connect(self.started_here.add)
        self.runs.runs_resumed.connect(self.started_here.update)
        self._build_menus()

        self.device_label = QLabel("device: detecting…")
        self.active_label = QLabel()
        self.active_label.setObjectName("active_runs")
        # room for the longest text up front: the status bar does not re-lay out permanent widgets
        self.active_label.setMinimumWidth(self.active_label.fontMetrics().horizontalAdvance("99 runs in progress") + 8)
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.active_label)
        self.statusBar().showMessage("loading plugins…")
        self.status_timer = QTimer(self, interval=STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self.refresh_status)
        self.status_timer.start()
        self.refresh_status()
        self._restore()
        self.loader = PluginLoader(self.home, self)
        self.loader.loaded.connect(self._plugins_loaded)
        self.loader.untrusted.connect(self.ask_about_untrusted_plugins)
        self.loader.device_found.connect(lambda text: self.device_label.setText(text))

    # --- menus ---------------------------------------------------------------------------------
    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction("&Quit", QKeySequence.Quit, self.close)
        view_menu = self.menuBar().addMenu("&View")
        self.view_actions = {}
        for i, (key, title, shortcut) in enumerate(VIEWS):
            action = QAction(title, self, shortcut=QKeySequence(shortcut))
            action.triggered.connect(lambda _=False, i=i: self.tabs.setCurrentIndex(i))
            view_menu.addAction(action)
            self.view_actions[key] = action
        self._view_keys = ViewKeysFirst({QKeySequence(shortcut) for _, _, shortcut in VIEWS}, self)
        QApplication.instance().installEventFilter(self._view_keys)
        view_menu.addSeparator()
        self.notify_action = QAction("Notify when a run ends", self, checkable=True)
        self.notify_action.setChecked(notifications_enabled())
        self.notify_action.toggled.connect(set_notifications_enabled)
        view_menu.addAction(self.notify_action)
        theme_menu = view_menu.addMenu("&Theme")
        group = QActionGroup(self)
        self.theme_actions = {}
        mgr = theme.manager()
        for mode in theme.MODES:
            action = QAction("Follow the system" if mode == "system" else mode.capitalize(), self, checkable=True)
            action.setChecked(mgr is not None and mgr.mode == mode)
            action.triggered.connect(lambda _=False, m=mode: self.set_theme(m))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("Plugin problems…", self.show_plugin_problems)
        help_menu.addAction("About Pretext", lambda: QMessageBox.about(
            self, "About Pretext", "Pretext: a desktop workbench for self-supervised visual representation "
            f"learning.\n\nExperiment store: {RunPaths(self.home).store}\nHeadless: python main.py --help"))

    def set_theme(self, mode: str) -> None:
        mgr = theme.manager()
        if mgr is not None:
            mgr.set_mode(mode)
        self.theme_actions[mode].setChecked(True)
        app_settings().setValue("theme/mode", mode)

    # --- start-up ------------------------------------------------------------------------------
    def showEvent(self, event):
        super().showEvent(event)
        if self.shown_at is None:
            self.shown_at = time.time()
            self.first_shown.emit(self.shown_at)
            QTimer.singleShot(0, self.loader.start)  # after the first paint: torch loads off screen

    def _plugins_loaded(self, failures: list) -> None:
        self.plugin_failures = failures
        self.new_run.plugins_loaded()
        self.evaluate.plugins_loaded()
        self.sweeps.plugins_loaded()
        message = "plugins loaded"
        if failures:
            message = f"{len(failures)} plugin(s) failed to load — Help ▸ Plugin problems"
        self.statusBar().showMessage(message, 0 if failures else 5000)
        self.plugins_ready.emit()

    def ask_about_untrusted_plugins(self, untrusted: list) -> None:
        """Show which home plugin files were skipped, by path, and let the user trust them."""
        self.trust_dialog = PluginTrustDialog(self.home, untrusted, self)
        self.trust_dialog.open()  # window-modal, not blocking: the workbench keeps running

    def show_plugin_problems(self) -> None:
        text = "\n\n".join(f"{src}\n  {reason}" for src, reason in self.plugin_failures) or "Every plugin loaded."
        QMessageBox.information(self, "Plugin problems", text)

    def _restore(self) -> None:
        settings = app_settings()
        geometry = settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 820)
        active = self.active_runs()
        if active:  # runs left running last time: pick them up where they are
            self.tabs.setCurrentWidget(self.monitor)
            self.monitor.show_run(active[0].id)
            return
        last_run = settings.value("monitor/run")
        if last_run:
            try:
                self.monitor.show_run(self.store.get_run(str(last_run)).id)
            except StoreError:
                pass
        self.tabs.setCurrentIndex(int(settings.value("window/tab", 0) or 0))

    # --- navigation ------------------------------------------------------------------------------
    def monitor_run(self, run_id: str) -> None:
        self.monitor.show_run(run_id)
        self.tabs.setCurrentWidget(self.monitor)
        self.refresh_status()

    def show_scaling(self, sweep_id: int) -> None:
        self.scaling.show_sweep(sweep_id)
        self.tabs.setCurrentWidget(self.scaling)

    def clone(self, config: dict, name: str) -> None:
        if not self.new_run.ready:
            self.statusBar().showMessage("plugins are still loading; try again in a moment", 4000)
            return
        self.new_run.load_config(config, name)
        self.tabs.setCurrentWidget(self.new_run)

    # --- status --------------------------------------------------------------------------------------
    def active_runs(self) -> list[Run]:
        """Runs in progress: running, paused, or queued with a worker launched."""
        runs = [r for r in self.store.watched_runs() if r.status in ACTIVE]
        return [r for r in runs if r.status != RunStatus.QUEUED or r.pid is not None]

    def refresh_status(self) -> None:
        queue_runner.serve_waiting(self.home)  # runs started here that wait for a slot need a scheduler
        runs = self.store.watched_runs(self.started_here)  # active runs and the ones to announce
        active = [r for r in runs if r.status in ACTIVE and (r.status != RunStatus.QUEUED or r.pid is not None)]
        n = len(active)
        self.active_label.setText(f"{n} run{'s' if n != 1 else ''} in progress")
        self._notify_ended(runs)

    def _notify_ended(self, runs: list[Run]) -> None:
        """A run started here that ended while the Monitor follows another one is announced
        too (the Monitor announces its own run as soon as its poller sees the change)."""
        followed = self.monitor.run.id if self.monitor.run else None
        for run in runs:
            if run.id in self.started_here and run.status not in ACTIVE:
                self.started_here.discard(run.id)
                if run.id != followed:
                    self.notifier.run_ended(run)
        self.started_here &= {r.id for r in runs}  # deleted meanwhile: nothing to say

    # --- closing ------------------------------------------------------------------------------------------
    def closeEvent(self, event):
        active = self.active_runs()
        if active:
            answer = ask_about_active_runs(self, [r.name for r in active])
            if answer == CANCEL:
                event.ignore()
                return
            if answer == STOP:
                queue_runner.stop()  # or it would start the next queued run
                for run in active:
                    try:
                        launcher.stop(self.store, run.id)
                    except StoreError:
                        pass  # it ended on its own meanwhile
        settings = app_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/tab", self.tabs.currentIndex())
        if self.monitor.run:
            settings.setValue("monitor/run", self.monitor.run.id)
        self.status_timer.stop()
        self.monitor.shutdown()
        self.runs.shutdown()
        self.evaluate.shutdown()
        self.sweeps.shutdown()
        self.scaling.shutdown()
        if self.loader.isRunning():
            self.loader.wait(30000)
        event.accept()
