"""A desktop notification when a run this window watches finishes or fails: a tray balloon
(``QSystemTrayIcon.showMessage``) where the desktop has a tray, else a status-bar message.
The View menu's "Notify when a run ends" (setting ``notifications/enabled``) turns it off."""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication, QMainWindow, QStyle, QSystemTrayIcon

from app.settings import app_settings
from engine.runs.status import RunStatus
from engine.store.run_record import Run

SETTING = "notifications/enabled"
NOTIFIED = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CRASHED)  # a stop was asked for: no news
SHOW_MS = 10000


def notifications_enabled() -> bool:
    return str(app_settings().value(SETTING, "true")).lower() in ("true", "1")


def set_notifications_enabled(on: bool) -> None:
    app_settings().setValue(SETTING, "true" if on else "false")


def message(run: Run) -> tuple[str, str]:
    """(title, text) of the notification for ``run``'s end."""
    if run.status == RunStatus.COMPLETED:
        return f"{run.name} completed", f"{run.method} on {run.dataset}: {run.total_steps} steps trained"
    return f"{run.name} {run.status}", (run.error or "no reason was recorded")[:200]


class RunNotifier(QObject):
    def __init__(self, window: QMainWindow):
        super().__init__(window)
        self.window = window
        self.tray: QSystemTrayIcon | None = None
        self.sent: list[tuple[str, str]] = []  # (title, text) of every notification shown

    def _tray(self) -> QSystemTrayIcon | None:
        if self.tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            icon = self.window.windowIcon()
            if icon.isNull():
                icon = QApplication.style().standardIcon(QStyle.SP_ComputerIcon)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.show()
        return self.tray

    def run_ended(self, run: Run) -> None:
        """Tell the user ``run`` ended (completed, failed or crashed), unless turned off."""
        if run.status not in NOTIFIED or not notifications_enabled():
            return
        title, text = message(run)
        self.sent.append((title, text))
        tray = self._tray()
        if tray is not None and tray.supportsMessages():
            icon = QSystemTrayIcon.Information if run.status == RunStatus.COMPLETED else QSystemTrayIcon.Warning
            tray.showMessage(title, text, icon, SHOW_MS)
        else:
            self.window.statusBar().showMessage(f"{title}: {text}", SHOW_MS)
