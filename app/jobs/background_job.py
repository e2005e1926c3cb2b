"""Run slow work (plugin imports, dataset building, previews) on the thread pool and hand
the result back to the Qt main thread through a signal.

``LatestJob`` keeps only the newest request's answer: when a form changes twice quickly,
the first, now stale, result is dropped instead of flashing on screen.
"""
from __future__ import annotations

import traceback
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class Relay(QObject):
    finished = Signal(int, object)   # ticket, result
    failed = Signal(int, str, str)   # ticket, one-line message, traceback


class Task(QRunnable):
    def __init__(self, ticket: int, fn: Callable[[], Any], relay: Relay, sentences: tuple = ()):
        super().__init__()
        self.ticket, self.fn, self.relay, self.sentences = ticket, fn, relay, sentences

    def run(self):
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 -- a plugin error is shown, never raised
            # an expected error's message is the sentence to show; another one's type says what broke
            message = str(exc) if isinstance(exc, self.sentences) else f"{type(exc).__name__}: {exc}"
            self._emit(self.relay.failed, self.ticket, message, traceback.format_exc())
            return
        self._emit(self.relay.finished, self.ticket, result)

    @staticmethod
    def _emit(signal, *args):
        try:
            signal.emit(*args)
        except RuntimeError:  # the view that asked was closed meanwhile; nobody is waiting
            pass


class LatestJob(QObject):
    """Submit callables; ``done(result)`` or ``error(message)`` fires for the newest only."""

    done = Signal(object)
    error = Signal(str)
    busy = Signal(bool)

    def __init__(self, parent=None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self.ticket = 0
        self.pending = 0
        self.relay = Relay()
        self.relay.finished.connect(self._finished)
        self.relay.failed.connect(self._failed)

    def submit(self, fn: Callable[[], Any], sentences: tuple[type[BaseException], ...] = ()) -> None:
        """Run ``fn`` on the pool; an exception of a ``sentences`` type is reported by its
        message alone (it is one sentence for the user), any other with its type's name."""
        self.ticket += 1
        self.pending += 1
        self.busy.emit(True)
        self.pool.start(Task(self.ticket, fn, self.relay, sentences))

    def _settle(self, ticket: int) -> bool:
        self.pending -= 1
        if self.pending == 0:
            self.busy.emit(False)
        return ticket == self.ticket

    def _finished(self, ticket, result):
        if self._settle(ticket):
            self.done.emit(result)

    def _failed(self, ticket, message, detail):
        if self._settle(ticket):
            self.error.emit(message)

    def drop(self) -> None:
        """Forget the request in flight: its answer, when it comes, is dropped (the view has
        moved on, e.g. to a dataset that cannot be built)."""
        self.ticket += 1

    @property
    def running(self) -> bool:
        return self.pending > 0
