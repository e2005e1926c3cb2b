"""A desktop notification when the run the window watches completes or fails: the tray where
there is one, else the status bar; the View menu turns it off; a stop asked for is no news."""
import os
import socket
import time

from engine.store.database import Store
from tests.app.conftest import tiny_config


def _running(home):
    store = Store(home)
    run_id = store.create_run(tiny_config(), "watched")
    now = time.time()
    store.update_run(run_id, status="running", started=now, heartbeat=now, pid=os.getpid(),
                     host=socket.gethostname(), total_steps=4, step=1)
    return store, run_id


class FakeTray:
    def __init__(self):
        self.messages = []

    def supportsMessages(self):
        return True

    def showMessage(self, title, text, icon, ms):
        self.messages.append((title, text))


def test_the_poller_seeing_a_run_complete_notifies_in_the_status_bar_without_a_tray(window, qtbot, home):
    store, run_id = _running(home)
    window.monitor_run(run_id)
    qtbot.waitUntil(lambda: window.monitor.run is not None and window.monitor.run.status == "running", timeout=3000)
    assert window.notifier.sent == []
    store.update_run(run_id, status="completed", step=4, ended=time.time())
    qtbot.waitUntil(lambda: bool(window.notifier.sent), timeout=3000)
    assert window.notifier.sent == [("watched completed", "simclr on shapes: 4 steps trained")]
    assert window.statusBar().currentMessage().startswith("watched completed")


def test_a_failure_goes_to_the_tray_and_the_setting_turns_it_off(window, qtbot, home, monkeypatch):
    tray = FakeTray()
    monkeypatch.setattr(window.notifier, "_tray", lambda: tray)
    store, run_id = _running(home)
    window.monitor_run(run_id)
    qtbot.waitUntil(lambda: window.monitor.run is not None and window.monitor.run.status == "running", timeout=3000)
    store.update_run(run_id, status="failed", error="ValueError: the loss is NaN", ended=time.time())
    qtbot.waitUntil(lambda: bool(tray.messages), timeout=3000)
    assert tray.messages == [("watched failed", "ValueError: the loss is NaN")]

    window.notify_action.setChecked(False)  # View ▸ Notify when a run ends
    store, second = _running(home)
    window.monitor_run(second)
    qtbot.waitUntil(lambda: window.monitor.run is not None and window.monitor.run.id == second, timeout=3000)
    store.update_run(second, status="completed", ended=time.time())
    qtbot.waitUntil(lambda: window.monitor.run.status == "completed", timeout=3000)
    assert len(tray.messages) == 1
    window.notify_action.setChecked(True)
    store, third = _running(home)
    window.monitor_run(third)
    qtbot.waitUntil(lambda: window.monitor.run is not None and window.monitor.run.id == third, timeout=3000)
    store.update_run(third, status="stopped", ended=time.time())  # asked for: no news
    qtbot.waitUntil(lambda: window.monitor.run.status == "stopped", timeout=3000)
    assert len(tray.messages) == 1


def test_a_run_started_here_is_announced_while_the_monitor_follows_another(window, qtbot, home):
    store, followed = _running(home)
    _, elsewhere = _running(home)
    window.monitor_run(followed)
    window.new_run.run_started.emit(elsewhere)  # as Start does (the Monitor then follows it) ...
    window.monitor_run(followed)  # ... and the user goes back to the other run
    store.update_run(elsewhere, status="crashed", error="the worker process exited", ended=time.time())
    window.refresh_status()
    assert window.notifier.sent == [("watched crashed", "the worker process exited")]
    window.refresh_status()
    assert len(window.notifier.sent) == 1  # once
    store.update_run(followed, status="completed", ended=time.time())  # no active run: closing asks nothing
