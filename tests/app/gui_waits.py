"""Waiting in GUI tests for what a view does off the main thread."""
from __future__ import annotations


def writes_done(qtbot, view, timeout: int = 20000) -> None:
    """Until every store write ``view`` asked for has been answered on the main thread (its
    callbacks ran: messages shown, the view refreshed, the scheduler started)."""
    qtbot.waitUntil(lambda: not view.writes.pending, timeout=timeout)
