"""GUI tests: offscreen Qt, a temporary home and a temporary QSettings file per test, and
no worker process left behind."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, QThreadPool  # noqa: E402

TINY = {
    "data": {"image_size": 16, "train_size": 64, "test_size": 32},
    "backbone": {"width": 8},
    "train": {"epochs": 1, "batch_size": 16, "knn_every": 1, "device": "cpu"},
}


@pytest.fixture(autouse=True)
def temp_settings(tmp_path):
    """Redirect the workbench's QSettings so no test touches the user's preferences."""
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(tmp_path / "settings"))
    yield tmp_path / "settings"


@pytest.fixture(autouse=True)
def no_workers_left(tmp_path):
    yield
    from app.jobs import queue_runner

    queue_runner.stop()  # the run queue's scheduler (New run's Start, sweeps) ...
    _end_queue_workers(tmp_path / "home")  # ... and the workers it started, not children of ours
    QThreadPool.globalInstance().waitForDone(60000)  # previews still computing end before the next test


def _end_queue_workers(home, timeout: float = 30.0) -> None:
    """SIGTERM (a stop) to every live worker of the test home's runs, SIGKILL after ``timeout``."""
    import signal
    import socket

    from engine.runs.status import ACTIVE
    from engine.store.database import Store
    from engine.store.liveness import pid_alive

    if not (home / "experiments.db").exists():
        return
    with Store(home) as store:
        runs = [r for r in store.list_runs() if r.status in ACTIVE and r.pid and r.host == socket.gethostname()]
    pids = {r.pid for r in runs if _is_worker_of(r.pid, r.id)}  # never a process that reused a pid
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.time() + timeout
        while time.time() < deadline and any(pid_alive(p) for p in pids):
            time.sleep(0.1)
        pids = {p for p in pids if pid_alive(p)}
        if not pids:
            return


def _is_worker_of(pid: int, run_id: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
    except OSError:
        return False
    return b"engine.runs.worker" in args and run_id.encode() in args


@pytest.fixture(scope="session")
def plugins():
    from engine import registry

    registry.discover()
    return registry


def tiny_config(method="simclr", epochs=1, **train):
    from engine.training.config import build_config

    return build_config("shapes", method, "convnet", train={**TINY["train"], "epochs": epochs, **train},
                        params={"data": TINY["data"], "backbone": TINY["backbone"]})


@pytest.fixture
def window(qtbot, home, plugins, monkeypatch):
    """The main window, shown, with its plugins loaded; closed without asking at the end."""
    from app.main import create_window
    from app.settings import app_settings
    from app.views import close_prompt, main_window

    # the last choices are restored from the settings: start from the tiny configuration, so
    # the previews do not generate the default 4,000-image dataset
    app_settings().setValue("new_run/last", json.dumps(
        {"data": {"id": "shapes", "params": TINY["data"]}, "method": {"id": "simclr", "params": {}},
         "backbone": {"id": "convnet", "params": TINY["backbone"]}, "train": {"params": TINY["train"]}}))
    _, win = create_window(home)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.new_run.ready, timeout=30000)
    yield win
    monkeypatch.setattr(main_window, "ask_about_active_runs", lambda *a: close_prompt.STOP)
    win.close()


def fill_tiny(view):
    """Set the New run forms to the tiny test configuration (convnet backbone)."""
    view.pickers["backbone"].set_current("convnet")
    for section, values in TINY.items():
        view.forms[section].set_values(values)


def wait_status(home, run_id, statuses, timeout=60.0):
    from engine.store.database import Store

    store = Store(home)
    try:
        deadline = time.time() + timeout
        while time.time() < deadline:
            status = store.get_run(run_id).status
            if status in statuses:
                return status
            time.sleep(0.2)
        return store.get_run(run_id).status
    finally:
        store.close()
