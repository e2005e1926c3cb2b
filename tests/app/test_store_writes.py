"""The GUI's store writes never wait on the Qt main thread (issue 19): a Stop pressed while
another program holds the database's write lock returns at once, and the request is written
once the lock is released, instead of failing after a fraction of a second."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

from PySide6.QtWidgets import QMessageBox

from app.views.runs_view import RunsView
from engine.store.database import Store
from tests.app.conftest import tiny_config
from tests.app.gui_waits import writes_done

HOLD = 2.0
HOLDER = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
          "c.execute('BEGIN IMMEDIATE'); c.execute(\"UPDATE runs SET notes = 'edited in a browser'\");"
          "print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('ROLLBACK')")


def test_stop_under_an_outside_write_lock_waits_off_the_main_thread_and_lands(qtbot, home, monkeypatch):
    store = Store(home)
    run_id = store.create_run(tiny_config(), "busy")
    store.update_run(run_id, status="running", started=time.time(), heartbeat=time.time(),
                     pid=os.getpid(), host=socket.gethostname())  # alive: this process
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    view = RunsView(home)
    qtbot.addWidget(view)
    view.refresh()
    view.select_ids([run_id])
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(store.path), str(HOLD)], stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        view.stop()
        assert view.writes.pending  # it returned with the write still waiting for the lock
        assert store.get_control(run_id) == ""
        writes_done(qtbot, view, timeout=int(HOLD * 1000) + 20000)
    finally:
        holder.wait(timeout=30)
    assert warned == []
    assert store.get_control(run_id) == "stop"
    view.shutdown()
    store.close()
