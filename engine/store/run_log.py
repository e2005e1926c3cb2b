"""The worker's side of the bus: batched metric inserts, a heartbeat thread, the control
flag and the run's ``log.txt``.

Every write carries the worker's ``Lease``; once the store refuses one (``LeaseLost``: the
run was resumed elsewhere or deleted) the log writes nothing more, and the next ``control``
or ``flush`` raises LeaseLost so the worker stops at once."""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from engine.store.database import Store
from engine.store.lease import Lease, LeaseLost

FLUSH_SECONDS = 0.25   # a metric reaches the store at most this long after its step
HEARTBEAT_SECONDS = 2.0
CONTROL_SECONDS = 0.25


class RunLog:
    def __init__(self, home: Path, run_id: str, lease: Lease):
        self.home, self.run_id, self.lease = Path(home), run_id, lease
        self.store = Store(home)
        self.rows: list[tuple] = []
        self.last_flush = time.monotonic()
        self.last_control_read = 0.0
        self.control_value = ""
        self.lost: LeaseLost | None = None
        self.log_path = self.store.run_dir(run_id).log
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat")
        self._beat.start()

    def _heartbeat(self):
        store = Store(self.home)  # SQLite connections stay on their own thread
        try:
            while not self._stop.wait(HEARTBEAT_SECONDS) and self.lost is None:
                try:
                    store.update_run(self.run_id, lease=self.lease, heartbeat=time.time())
                except LeaseLost as e:
                    self.lost = e
                except Exception as e:  # noqa: BLE001 -- a lock held past patience, a full disk: beat on
                    print(f"heartbeat not written: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        finally:
            store.close()

    def check(self) -> None:
        """Raise LeaseLost if any write (or the heartbeat) found the run taken or deleted."""
        if self.lost is not None:
            raise self.lost

    def _fenced(self, write, *args, **kwargs):
        self.check()
        try:
            return write(*args, lease=self.lease, **kwargs)
        except LeaseLost as e:
            self.lost, self.rows = e, []
            raise

    def text(self, message: str) -> None:
        if self.lost is not None or not self.log_path.parent.is_dir():
            return  # never recreate the folder of a deleted run, nor write in a run we lost
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
        self._fenced(self.store.log_metrics, self.run_id, self.rows)
        self.rows = []
        self.last_flush = time.monotonic()
        if getattr(self, "last_step", None) is not None:
            run_fields.setdefault("step", self.last_step)
        if run_fields:
            self._fenced(self.store.update_run, self.run_id, **run_fields)

    def update(self, **run_fields) -> None:
        self._fenced(self.store.update_run, self.run_id, **run_fields)

    def control(self) -> str:
        """The run's ``control`` flag (stop, pause, resume), read at most 4 times a second;
        LeaseLost once the run is no longer this worker's."""
        self.check()
        if time.monotonic() - self.last_control_read >= CONTROL_SECONDS:
            self.control_value = self._fenced(self.store.get_control, self.run_id) or ""
            self.last_control_read = time.monotonic()
        return self.control_value

    def close(self) -> None:
        self._stop.set()
        self._beat.join(timeout=5)
        try:
            if self.rows and self.lost is None:
                self.flush()
        except LeaseLost:
            pass  # the rows belong to a run this worker no longer owns
        finally:
            self.store.close()
