"""Short human-readable numbers, times and durations for tables and status lines."""
from __future__ import annotations

import math
import time

from engine.runs.active_time import run_seconds
from engine.store.run_record import Run


def duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0 or math.isnan(seconds):
        return ""
    seconds = int(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else ""


def number(value: float | None, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.{digits}g}"


def run_duration(run: Run, now: float | None = None) -> float | None:
    """Seconds trained (``engine.runs.active_time.run_seconds``): the time a run sat paused,
    stopped or crashed before a resume is not counted."""
    return run_seconds(run, now)
