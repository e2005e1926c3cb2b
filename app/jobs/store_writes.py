"""The GUI's writes to the experiment store (stop, pause, resume, delete, notes), made one at a
time on a thread of their own, so the window never waits on the database.

A write is a function of a ``Store``; it runs on this object's single pool thread with the
store this object opens there on its first write and keeps (one connection, used by one
thread at a time), whose writes wait out another program's lock with backoff (as a worker's
do) instead of failing after a fraction of a second. Its result, or its error as one
sentence, comes back to the Qt main thread through the callbacks given with it. Writes run in
the order they were asked for.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QObject, QThreadPool

from app.jobs.background_job import Relay, Task
from engine.store.database import Store, StoreError

Write = Callable[[Store], Any]


class StoreWrites(QObject):
    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)  # one at a time, in order
        self.relay = Relay()
        self.relay.finished.connect(self._finished)
        self.relay.failed.connect(self._failed)
        self.store: Store | None = None  # opened and used on the pool's thread only
        self.ticket = 0
        self.waiting: dict[int, tuple[Callable | None, Callable | None]] = {}

    def submit(self, write: Write, done: Callable[[Any], None] | None = None,
               failed: Callable[[str], None] | None = None) -> None:
        """Run ``write(store)`` off the main thread; then ``done(result)`` or ``failed(sentence)``
        on the main thread (a StoreError's or OSError's message is the sentence)."""
        self.ticket += 1
        self.waiting[self.ticket] = (done, failed)
        self.pool.start(Task(self.ticket, lambda: self._run(write), self.relay, (StoreError, OSError)))

    def _run(self, write: Write):
        if self.store is None:  # a home that cannot be opened fails this write and is tried again
            self.store = Store(self.home)
        return write(self.store)

    def _finished(self, ticket: int, result) -> None:
        done, _ = self.waiting.pop(ticket, (None, None))
        if done is not None:
            done(result)

    def _failed(self, ticket: int, message: str, detail: str) -> None:
        _, failed = self.waiting.pop(ticket, (None, None))
        if failed is not None:
            failed(message)

    @property
    def pending(self) -> bool:
        return bool(self.waiting)

    def finish(self, timeout_ms: int = 30000) -> bool:
        """Wait for the writes asked for (the view is closing) and close the store; whether they
        all ended."""
        ended = self.pool.waitForDone(timeout_ms)
        if ended and self.store is not None:
            self.store.close()
            self.store = None
        return ended
