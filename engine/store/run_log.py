"""The worker's side of the bus: batched metric inserts, a heartbeat thread, the control
flag and the run's ``log.txt``."""
from __future__ import annotations

import threading
import time
from pathlib import Path

from engine.store.database import Store

FLUSH_SECONDS = 0.25   # a metric reaches the store at most this long after its step
HEARTBEAT_SECONDS = 2.0
CONTROL_SECONDS = 0.25


class RunLog:
    def __init__(self, home: Path, run_id: str):
        self.home, self.run_id = Path(home), run_id
        self.store = Store(home)
        self.rows: list[tuple] = []
        self.last_flush = time.monotonic()
        self.last_control_read = 0.0
        self.control_value = ""
        self.log_path = self.store.run_dir(run_id).log
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat")
        self._beat.start()

    def _heartbeat(self):
        store = Store(self.home)  # SQLite connections stay on their own thread
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS):
                store.update_run(self.run_id, heartbeat=time.time())
        finally:
            store.close()

    def text(self, message: str) -> None:
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(time.strftime("%H:%M:%S ") + message.rstrip() + "\n")

    def metrics(self, step: int, epoch: float, values: dict) -> None:
        now = time.time()
        self.rows += [(step, epoch, now, k, float(v)) for k, v in values.items()]
        self.last_step = step
        if time.monotonic() - self.last_flush >= FLUSH_SECONDS:
            self.flush()

    def flush(self, **run_fields) -> None:
        """Write buffered rows in one transaction, with the run's step and ``run_fields``."""
        self.store.log_metrics(self.run_id, self.rows)
        self.rows = []
        self.last_flush = time.monotonic()
        if getattr(self, "last_step", None) is not None:
            run_fields.setdefault("step", self.last_step)
        if run_fields:
            self.store.update_run(self.run_id, **run_fields)

    def control(self) -> str:
        """The run's ``control`` flag (stop, pause, resume), read at most 4 times a second."""
        if time.monotonic() - self.last_control_read >= CONTROL_SECONDS:
            self.control_value = self.store.get_control(self.run_id) or ""
            self.last_control_read = time.monotonic()
        return self.control_value

    def close(self) -> None:
        self._stop.set()
        self._beat.join(timeout=5)
        if self.rows:
            self.flush()
        self.store.close()
