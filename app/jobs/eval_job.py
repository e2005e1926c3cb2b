"""One evaluation job: ``python main.py eval RUN... --protocol P,... --home H`` in its own
process (``QProcess``), so torch, feature extraction and probe fitting never run in the
GUI process. Progress comes as the typed events of ``--progress jsonl`` on stdout
(``engine.evaluation.progress_events``); results land in the store's ``evals`` table,
which the Evaluate view polls.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from engine.evaluation.progress_events import EvalFailed, JobStarted, ResultStored, StepProgress, parse_line
from engine.runs.process_control import PROJECT_ROOT


@dataclass
class EvalRequest:
    """What to evaluate: ``protocols`` maps protocol id -> {param: value}; ``data`` is None
    for each run's own data, else ``{"id": dataset, "params": {...}}``."""
    run_ids: list[str]
    protocols: dict[str, dict]
    baseline: bool = False
    data: dict | None = None
    device: str = "auto"
    extra: list[str] = field(default_factory=list)

    def arguments(self, home: Path) -> list[str]:
        """The ``main.py`` arguments (after the script) of this request."""
        args = ["eval", *self.run_ids, "--protocol", ",".join(self.protocols), "--home", str(home),
                "--device", self.device, "--progress", "jsonl"]
        for pid, values in self.protocols.items():
            args += [f"--set={pid}.{name}={_text(value)}" for name, value in values.items() if _text(value)]
        if self.data:
            args += ["--data", self.data["id"]]
            args += [f"--set=data.{name}={_text(value)}" for name, value in self.data.get("params", {}).items()
                     if _text(value)]
        if self.baseline:
            args += ["--baseline", "random"]
        return args + self.extra


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    return "" if value is None else str(value)


class EvalJob(QObject):
    """Runs one ``EvalRequest``; ``progress(fraction, text)`` as it goes, ``result(run_id,
    protocol)`` as each evaluation is stored, ``finished(ok, message)`` at the end, where
    the message of a failure is the CLI's error event (its one sentence), or, when the
    process died without one, its last stderr line."""

    progress = Signal(float, str)
    result = Signal(str, str)
    finished = Signal(bool, str)

    def __init__(self, home: Path, request: EvalRequest, expected_jobs: int, parent=None):
        super().__init__(parent)
        self.home, self.request = Path(home), request
        self.expected = max(1, expected_jobs)
        self.done = 0
        self.stderr_tail: list[str] = []
        self.failure: str | None = None  # the sentence of an EvalFailed event
        self.cancelled = False
        self._buffers = {"out": "", "err": ""}
        self.process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("PYTHONUNBUFFERED", "1")
        env.insert("PYTHONPATH", os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.value("PYTHONPATH", "")])))
        self.process.setProcessEnvironment(env)
        self.process.setWorkingDirectory(str(PROJECT_ROOT))
        self.process.readyReadStandardOutput.connect(lambda: self._read("out"))
        self.process.readyReadStandardError.connect(lambda: self._read("err"))
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)

    @property
    def command(self) -> list[str]:
        return [sys.executable, str(PROJECT_ROOT / "main.py"), *self.request.arguments(self.home)]

    def start(self) -> None:
        program, *args = self.command
        self.progress.emit(0.0, "starting the evaluation process…")
        self.process.start(program, args)

    def running(self) -> bool:
        return self.process.state() != QProcess.NotRunning

    def cancel(self, wait_ms: int = 5000) -> None:
        """End the process (SIGTERM, then SIGKILL) and wait for it, so none is left behind."""
        if not self.running():
            return
        self.cancelled = True
        self.process.terminate()
        if not self.process.waitForFinished(wait_ms):
            self.process.kill()
            self.process.waitForFinished(wait_ms)

    # --- output ------------------------------------------------------------------------------
    def _read(self, stream: str) -> None:
        raw = self.process.readAllStandardOutput() if stream == "out" else self.process.readAllStandardError()
        text = self._buffers[stream] + bytes(raw).decode("utf-8", "replace").replace("\r", "\n")
        *lines, self._buffers[stream] = text.split("\n")
        for line in filter(None, (ln.strip() for ln in lines)):
            self._stdout_line(line) if stream == "out" else self._stderr_line(line)

    def _stdout_line(self, line: str) -> None:
        event = parse_line(line)
        if isinstance(event, JobStarted):
            self.expected = max(1, event.evaluations)
        elif isinstance(event, StepProgress):
            fraction = min(1.0, (self.done + min(event.fraction, 0.999)) / self.expected)
            note = f": {event.note}" if event.note else ""
            self.progress.emit(fraction, f"{event.protocol} on {event.run_id}{note} "
                                         f"({self.done + 1} of {self.expected})")
        elif isinstance(event, ResultStored):
            self.done += 1
            self.expected = max(self.expected, self.done)
            self.progress.emit(self.done / self.expected, f"{event.protocol} of {event.run_id} stored")
            self.result.emit(event.run_id, event.protocol)
        elif isinstance(event, EvalFailed):
            self.failure = event.message

    def _stderr_line(self, line: str) -> None:
        self.stderr_tail = (self.stderr_tail + [line])[-20:]

    def _finished(self, code: int, status) -> None:
        for stream in ("out", "err"):  # a last line without its newline
            if self._buffers[stream].strip():
                self._buffers[stream] += "\n"
                self._read(stream)
        if self.cancelled:
            self.finished.emit(False, "cancelled")
        elif code == 0 and status == QProcess.NormalExit:
            self.finished.emit(True, f"{self.done} evaluation{'s' if self.done != 1 else ''} stored")
        else:
            self.finished.emit(False, self.error_message(code))

    def _error(self, error) -> None:
        if error == QProcess.FailedToStart:
            self.finished.emit(False, f"the evaluation process did not start: {self.process.errorString()}")

    def error_message(self, code: int) -> str:
        """The sentence of the CLI's error event; without one (the process was killed, or
        failed before it could write events) its last stderr line."""
        if self.failure:
            return self.failure
        last = self.stderr_tail[-1] if self.stderr_tail else f"the evaluation process exited with code {code}"
        return last[len("error: "):] if last.startswith("error: ") else last
