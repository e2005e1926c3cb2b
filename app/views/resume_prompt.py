"""Resume from the GUI: the store's part off the main thread (``StoreWrites``), the scheduler
started on it, and the question asked when a run has no checkpoint to go on from."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QMessageBox

from app.jobs import launcher, queue_runner
from app.jobs.store_writes import StoreWrites
from engine.runs.process_control import NoCheckpointError
from engine.store.database import StoreError
from engine.store.run_record import Run


def ask_fresh_start(parent, run: Run, rows: int) -> bool:
    """Whether to start ``run`` again at step 0, discarding its ``rows`` metric rows."""
    answer = QMessageBox.question(
        parent, "Start afresh?",
        f"{run.name} ({run.short_id}) has no checkpoint to resume from. Start it again at step 0? "
        f"Its {rows} metric rows will be discarded.",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes


def _requeue_each(runs: list[Run], fresh: bool):
    """A write: requeue every run; -> (any queued, runs without a checkpoint with their rows,
    one line per run that could not be resumed)."""
    def write(store):
        queued, no_checkpoint, problems = False, [], []
        for run in runs:
            try:
                queued |= launcher.requeue(store, run.id, fresh=fresh)
            except NoCheckpointError as e:
                no_checkpoint.append((run, e.rows))
            except (StoreError, OSError) as e:
                problems.append(f"{run.name}: {e}")
        return queued, no_checkpoint, problems
    return write


def resume_runs(parent, writes: StoreWrites, home: Path, runs: list[Run], after: Callable[[], None]) -> None:
    """Resume ``runs``: a paused one goes on in its worker, the others wait in the run queue
    (its scheduler is started here); for each without a checkpoint the user is asked whether to
    start it afresh. ``after()`` runs once everything asked for is written."""
    problems: list[str] = []

    def finish(queued: bool) -> None:
        if queued:
            try:
                queue_runner.ensure_running(home)
            except OSError as e:
                problems.append(f"the run queue's scheduler did not start: {e}")
        if problems:
            QMessageBox.warning(parent, "Could not resume", "\n".join(problems))
        after()

    def fail(message: str) -> None:
        problems.append(message)
        finish(False)

    def first_pass(result) -> None:
        queued, no_checkpoint, found = result
        problems.extend(found)
        fresh = [run for run, rows in no_checkpoint if ask_fresh_start(parent, run, rows)]
        if not fresh:
            finish(queued)
            return
        writes.submit(_requeue_each(fresh, True), lambda again: (problems.extend(again[2]), finish(True)), fail)

    writes.submit(_requeue_each(runs, False), first_pass, fail)
