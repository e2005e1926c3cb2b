"""Main window: views and shortcuts, status bar, themes, remembered settings, the headless
message, and the question asked when closing with runs in progress."""
import os
import socket
import time

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox

import app.main as app_main
from app import theme
from app.settings import app_settings
from engine.store.database import Store
from tests.app.conftest import tiny_config


def test_no_display_prints_how_to_run_headless(monkeypatch, capsys, tmp_path):
    for var in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(app_main.sys, "platform", "linux")
    assert app_main.display_available() is False
    assert app_main.run(tmp_path) == 2
    err = capsys.readouterr().err
    assert "python main.py train --help" in err and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app_main.display_available() is True


def test_shortcuts_switch_views_and_the_status_bar_reports(window, qtbot):
    for key, widget in ((Qt.Key_R, window.runs), (Qt.Key_M, window.monitor), (Qt.Key_N, window.new_run)):
        qtbot.keyClick(window, key, Qt.ControlModifier)
        assert window.tabs.currentWidget() is widget
    qtbot.waitUntil(lambda: "detecting" not in window.device_label.text(), timeout=10000)
    assert "CPU" in window.device_label.text() or "GPU" in window.device_label.text()
    assert window.active_label.text() == "0 runs in progress"


def test_theme_override_and_settings_are_remembered(window, qtbot, home):
    window.set_theme("dark")
    app = QApplication.instance()
    assert app.palette().color(QPalette.Window).name() == theme.DARK.window
    assert window.monitor.plots["loss"].backgroundBrush().color().name() == theme.DARK.plot_bg
    window.set_theme("light")
    assert app.palette().color(QPalette.Window).name() == theme.LIGHT.window
    assert theme.curve_color(0, "dark") != theme.curve_color(0, "light")
    window.set_theme("dark")
    # Between the views' minimum and the screen: outside it Qt clamps the restored size.
    hint, screen = window.minimumSizeHint(), app.primaryScreen().availableGeometry()
    assert hint.width() < screen.width(), "the window fits an 800-pixel-wide screen"
    window.resize(hint.width() + (screen.width() - hint.width()) // 2, hint.height() + 20)
    window.tabs.setCurrentIndex(1)
    size = window.size()
    window.close()
    settings = app_settings()
    assert settings.value("theme/mode") == "dark" and int(settings.value("window/tab")) == 1
    _, again = app_main.create_window(home)
    qtbot.addWidget(again)
    assert again.size() == size and again.tabs.currentIndex() == 1
    assert theme.manager().mode == "dark"
    again.close()


def _running_run(home):
    """A run that looks alive to the store: our own pid, a fresh heartbeat."""
    store = Store(home)
    run_id = store.create_run(tiny_config(), "in-progress")
    store.update_run(run_id, status="running", started=time.time(), heartbeat=time.time(), pid=os.getpid(),
                     host=socket.gethostname())
    return store, run_id


def test_closing_with_a_run_in_progress_offers_the_choice(window, qtbot, home, monkeypatch):
    store, run_id = _running_run(home)
    window.refresh_status()
    assert window.active_label.text() == "1 run in progress"
    asked = []

    def answer(choice):
        def exec_(box):
            asked.append((box.text(), [b.text() for b in box.buttons()]))
            return choice
        monkeypatch.setattr(QMessageBox, "exec", exec_)

    answer(QMessageBox.Cancel)
    assert window.close() is False and window.isVisible()
    assert "1 run(s) are in progress: in-progress" in asked[0][0]
    assert {"Stop them", "Leave running"} <= set(asked[0][1])
    answer(QMessageBox.No)  # leave running
    assert window.close() is True
    assert store.get_run(run_id).control == "" and store.get_run(run_id).status == "running"

    _, reopened = app_main.create_window(home)  # left running: found and monitored on the next start
    qtbot.addWidget(reopened)
    assert reopened.tabs.currentWidget() is reopened.monitor and reopened.monitor.run.id == run_id
    answer(QMessageBox.Yes)  # stop them
    assert reopened.close() is True
    assert store.get_run(run_id).control == "stop"


def test_view_shortcuts_work_while_a_text_field_has_focus(window, qtbot):
    """Under X11 a QLineEdit claims Ctrl+E (end of line) through ShortcutOverride; the
    offscreen platform has other key bindings, so a field that claims it stands in here."""
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QLineEdit

    class ClaimsCtrlE(QLineEdit):
        def event(self, event):
            if event.type() == QEvent.ShortcutOverride and event.key() == Qt.Key_E:
                event.accept()
                return True
            return super().event(event)

    window.tabs.setCurrentWidget(window.new_run)
    field = ClaimsCtrlE(window.new_run)
    field.show()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=3000)
    qtbot.keyClick(field, Qt.Key_E, Qt.ControlModifier)
    assert window.tabs.currentWidget() is window.evaluate
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key_N, Qt.ControlModifier)
    assert window.tabs.currentWidget() is window.new_run
