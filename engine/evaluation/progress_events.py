"""The machine-readable progress of ``main.py eval --progress jsonl``: one JSON object per
line on standard output, one dataclass per kind of event, written by ``to_line`` and read
back by ``parse_line``. The GUI's evaluation job reads these instead of the human lines.

A line is ``{"event": KIND, ...the dataclass's fields}``; ``parse_line`` returns None for
any other line (a print from a plugin, a warning), so a stray line never breaks a reader.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field, fields
from typing import ClassVar, TextIO, Union


@dataclass(frozen=True)
class JobStarted:
    """The evaluations the job will run: one per (run, protocol), baselines included."""
    kind: ClassVar[str] = "started"
    evaluations: int
    run_ids: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _OfOneEvaluation:
    """An event about evaluation ``index`` (0-based) of the job: protocol ``protocol`` of
    run ``run_id``."""
    index: int
    run_id: str
    protocol: str


@dataclass(frozen=True)
class StepProgress(_OfOneEvaluation):
    """``done`` of ``total`` of one evaluation, with what it is doing in ``note``."""
    kind: ClassVar[str] = "step"
    done: int
    total: int
    note: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / max(1, self.total))


@dataclass(frozen=True)
class ResultStored(_OfOneEvaluation):
    """One evaluation stored in the ``evals`` table as row ``eval_id``, with its headline figures."""
    kind: ClassVar[str] = "stored"
    eval_id: int
    dataset: str
    checkpoint: str
    headline: dict = field(default_factory=dict)


@dataclass(frozen=True)
class EvalFailed:
    """The job stopped; ``message`` is the one sentence to show (no traceback)."""
    kind: ClassVar[str] = "error"
    message: str


ProgressEvent = Union[JobStarted, StepProgress, ResultStored, EvalFailed]
EVENT_TYPES = {cls.kind: cls for cls in (JobStarted, StepProgress, ResultStored, EvalFailed)}


def to_line(event: ProgressEvent) -> str:
    """The event as one line of JSON (no newline)."""
    return json.dumps({"event": event.kind, **asdict(event)}, default=str)


def parse_line(line: str) -> ProgressEvent | None:
    """The event a ``to_line`` line holds, or None for a line that is not one (another
    print, a truncated line, an unknown kind or fields that do not fit)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        data = json.loads(line)
    except ValueError:
        return None
    cls = EVENT_TYPES.get(data.pop("event", None)) if isinstance(data, dict) else None
    if cls is None:
        return None
    known = {f.name for f in fields(cls)}
    try:
        return cls(**{k: v for k, v in data.items() if k in known})  # newer writers may add fields
    except TypeError:  # a required field is missing
        return None


class EventWriter:
    """Writes events to ``stream`` (standard output by default), flushed line by line.

    ``step`` is throttled to one line per ``every`` seconds per evaluation (plus its last),
    since feature extraction reports every batch."""

    def __init__(self, stream: TextIO | None = None, every: float = 0.1):
        self.stream, self.every = stream, every
        self._last = 0.0

    def emit(self, event: ProgressEvent) -> None:
        stream = self.stream or sys.stdout
        stream.write(to_line(event) + "\n")
        stream.flush()

    def step(self, index: int, run_id: str, protocol: str):
        """A ``progress(done, total, note)`` callable for evaluation ``index``."""
        def progress(done: int, total: int, note: str = "") -> None:
            now = time.monotonic()
            if done < total and now - self._last < self.every:
                return
            self._last = now
            self.emit(StepProgress(index, run_id, protocol, int(done), int(total), note))
        return progress
