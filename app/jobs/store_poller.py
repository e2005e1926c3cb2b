"""Polls the experiment store for one run, 5 times a second, on a QTimer.

Each tick reads the run's row and the metric rows written since the last tick
(``Store.metrics_since``: an indexed ``WHERE id > last``), so a worker started anywhere (this
GUI, the CLI, an earlier session) is followed the same way. Reads are small, never write
(a dead worker is derived, not marked) and never wait: in WAL mode no writer blocks them,
and a tick that finds the file busy is skipped."""
from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from engine.store.database import Store, StoreError

GUI_BUSY_TIMEOUT = 0.2   # seconds the GUI thread may wait for the database, at most
GUI_PATIENCE = 0.5


def gui_store(home: Path) -> Store:
    """A store for the GUI thread's reads (they never wait in WAL mode). The GUI's writes go
    through ``app.jobs.store_writes.StoreWrites``, off the main thread; should one be made here
    after all (the window closing stops its runs), it fails within a second with a StoreError
    instead of freezing the window."""
    return Store(home, busy_timeout=GUI_BUSY_TIMEOUT, patience=GUI_PATIENCE)


POLL_MS = 200  # 5 Hz: a metric reaches the plot well under a second after the worker flushes it


class StorePoller(QObject):
    run_changed = Signal(object)    # the run (engine.store.run_record.Run), when any field changed
    rows_arrived = Signal(list)     # new metric rows: sqlite3.Row(id, step, epoch, time, key, value)
    run_missing = Signal(str)       # the run was deleted

    def __init__(self, home: Path, parent=None, interval_ms: int = POLL_MS):
        super().__init__(parent)
        self.home = Path(home)
        self.store = gui_store(self.home)
        self.run_id: str | None = None
        self.last_id = 0
        self.last_row: dict | None = None
        self.timer = QTimer(self, interval=interval_ms)
        self.timer.timeout.connect(self.poll)

    def watch(self, run_id: str | None) -> None:
        """Follow ``run_id`` from its first metric row (None: follow nothing)."""
        self.run_id, self.last_id, self.last_row = run_id, 0, None
        if run_id is None:
            self.timer.stop()
            return
        self.poll()
        self.timer.start()

    def reload(self) -> None:
        """Read every row again (after a resume rewrote the tail of the run)."""
        self.last_id, self.last_row = 0, None
        self.poll()

    def poll(self) -> None:
        if self.run_id is None:
            return
        try:
            run = self.store.get_run(self.run_id)
        except sqlite3.OperationalError:
            return  # the file is busy (a lock being recovered): the next tick reads it
        except StoreError:
            self.timer.stop()
            self.run_missing.emit(self.run_id)
            return
        comparable = dataclasses.replace(run, heartbeat=None)  # a heartbeat alone changes nothing shown
        if comparable != self.last_row:
            self.last_row = comparable
            self.run_changed.emit(run)
        try:
            rows = self.store.metrics_since(self.run_id, self.last_id)
        except sqlite3.OperationalError:
            return
        if rows:
            self.last_id = rows[-1]["id"]
            self.rows_arrived.emit(rows)

    def close(self) -> None:
        self.timer.stop()
        self.store.close()
