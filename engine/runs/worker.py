"""The engine worker: ``python -m engine.runs.worker RUN_ID --home H`` trains one stored run.

It owns the run's row while it lives: status, heartbeat, metrics, checkpoints. It obeys
``runs.control`` between steps and SIGTERM (checkpoint, then ``stopped``), and records
``failed`` with a readable error on any exception. A run with a checkpoint continues from it.
"""
from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import sqlite3
import sys
import time
import traceback
from pathlib import Path

from engine.runs.active_time import ACTIVE_KEY, ActiveClock
from engine.runs.paths import RunPaths
from engine.runs.process_control import missing_checkpoint
from engine.runs.status import CLEAN_END, RunStatus
from engine.store.database import Store, StoreError
from engine.store.lease import LeaseLost
from engine.store.run_log import RunLog


class WorkerHooks:
    """Connects the trainer to the store (and, in the foreground CLI, a progress bar).

    Metrics are stored every ``log_every`` steps and at the last step of every epoch (the
    epoch's checkpoint and kNN value line up with a stored row); the progress bar sees every step.
    An epoch's last rows are written at once, before its kNN and checkpoint, so readers see the
    epoch done while those take their seconds. Every stored step carries ``active_seconds``
    (engine/runs/active_time.py): the time trained so far, the time paused left out."""

    def __init__(self, log: RunLog, progress=None, log_every: int = 1):
        self.log, self.progress, self.terminate = log, progress, False
        self.log_every = max(1, int(log_every))
        self.clock = ActiveClock()

    def on_step(self, step, total, epoch, metrics):
        epoch_end = float(epoch).is_integer() or step == total
        if step % self.log_every == 0 or epoch_end:
            self.log.metrics(step, epoch, {**metrics, ACTIVE_KEY: self.clock.seconds()})
        if epoch_end:
            self.log.flush()
        if self.progress:
            self.progress.update(step, total, epoch, metrics)

    def on_epoch(self, epoch, metrics):
        if metrics:
            self.log.metrics(getattr(self.log, "last_step", None) or 0, float(epoch), metrics)  # 0: before step 1
        self.log.flush()

    def control(self) -> str:
        if self.terminate:
            return "stop"
        value = self.log.control()
        paused = value == "pause"
        if paused != getattr(self, "paused", False):  # the worker's own status says what it does
            self.paused = paused
            if paused:  # the time paused is not training time
                self.clock.pause()
            else:
                self.clock.resume()
            self.log.update(status=RunStatus.PAUSED if paused else RunStatus.RUNNING)
        return value

    def flush(self):
        """Called before each checkpoint, so the store holds every row the checkpoint covers."""
        self.log.flush()

    def text(self, message):
        self.log.text(message)
        if self.progress:
            self.progress.message(message)


def explain(exc: BaseException) -> str:
    """One readable sentence for a failure, with a hint where there is one."""
    import torch

    from engine.data.dataset import DataError
    from engine.params import ParamError
    from engine.training.trainer import TrainingError

    if isinstance(exc, (TrainingError, DataError, ParamError, StoreError)):
        return str(exc)
    if isinstance(exc, torch.OutOfMemoryError):
        return "out of GPU memory; lower the batch size (or use a smaller backbone or image size)"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return f"the disk is full ({exc.filename or 'writing'}); free space and resume the run"
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):  # SQLITE_FULL
        return "the disk is full (writing the experiment store); free space and resume the run"
    return f"{type(exc).__name__}: {exc}"


def execute(home: Path, run_id: str, progress=None) -> RunStatus:
    """Train run ``run_id`` to an end state; return that status."""
    from engine import registry
    from engine.training.trainer import Trainer

    store = Store(home)
    run = store.get_run(run_id, check_liveness=False)
    run_id = run.id
    run.check_usable()
    registry.discover(Path(home))
    lease = store.claim_run(run_id, os.getpid(), socket.gethostname())  # StoreError: not ours to start
    log = RunLog(home, run_id, lease)
    # .get: configs stored before log_every existed resume with every step logged
    hooks = WorkerHooks(log, progress, run.config["train"].get("log_every", 1))
    previous = signal.signal(signal.SIGTERM, lambda *_: setattr(hooks, "terminate", True))
    status = RunStatus.FAILED
    try:
        trainer = Trainer(run.config, store.run_dir(run_id), RunPaths(home).cache, hooks)
        trainer.checkpoint_tag = lease.tag  # temp files per owner: a revoked one never clobbers ours
        ckpt = store.run_dir(run_id).last_checkpoint
        if not ckpt.exists():  # gone since the resume was asked for: keep the history, say why
            missing_checkpoint(store, run_id)
        if ckpt.exists():
            trainer.load_checkpoint(ckpt)
            log.text(f"resumed from step {trainer.step}")
        # Rows after the checkpoint are replayed; with no checkpoint yet (a worker killed in its
        # first epoch) that is every row the earlier attempt wrote.
        store.truncate_metrics(run_id, trainer.step, lease=lease)
        hooks.clock.base = store.latest(run_id).get(ACTIVE_KEY, 0.0)  # what the earlier workers trained
        device = str(trainer.device) if trainer.device.type == "cpu" else __import__("torch").cuda.get_device_name()
        log.update(device=device, total_steps=trainer.total_steps, step=trainer.step)
        log.text(f"training {run.name} on {device}: {trainer.total_steps} steps of {trainer.batch_size} images")
        if trainer.skipped:
            hooks.text(f"skipped {trainer.skipped} unreadable image files")
        outcome = trainer.run()
        if outcome.status == RunStatus.COMPLETED:
            log.check()  # a revoked worker must not write the backbone of a run it lost
            path = trainer.save_backbone()
            store.add_artifact(run_id, "backbone", str(path), outcome.step, lease=lease)
        status = outcome.status
        log.flush(status=status, ended=time.time(), step=outcome.step, control="")
    except LeaseLost as exc:  # another owner (or a delete) has the run: write nothing at all
        log.lost = exc
        print(f"worker stops without writing: {exc}", file=sys.stderr, flush=True)
        raise
    except BaseException as exc:
        message = "interrupted" if isinstance(exc, KeyboardInterrupt) else explain(exc)
        status = RunStatus.STOPPED if isinstance(exc, KeyboardInterrupt) else RunStatus.FAILED
        try:
            log.text(f"{status}: {message}\n{traceback.format_exc()}")
        except OSError:  # a full disk must not keep the status from the store
            pass
        end = dict(status=status, ended=time.time(), error=message if status == RunStatus.FAILED else "")
        try:
            log.flush(**end)
        except LeaseLost as lost:  # the error came of losing the run (a delete took its folder): say that
            log.lost = lost
            print(f"worker stops without writing: {lost}", file=sys.stderr, flush=True)
            raise lost from exc
        except Exception:  # the store may be what failed: record the end without the unsaved rows
            log.rows = []
            try:
                log.update(**end)
            except Exception:  # readers will see it crashed; the log file has the reason
                pass
        if isinstance(exc, KeyboardInterrupt):
            raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        log.close()
        if log.lost is not None and log.lost.current is None:
            store.remove_files_of_deleted(run_id)  # what this worker wrote after the delete
        store.close()
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.runs.worker", description=__doc__.splitlines()[0])
    parser.add_argument("run_id")
    parser.add_argument("--home", required=True)
    args = parser.parse_args(argv)
    try:
        status = execute(Path(args.home), args.run_id)
    except LeaseLost:
        return 3  # the run has another owner (or was deleted); execute said so on stderr
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0 if status in CLEAN_END else 1


if __name__ == "__main__":
    sys.exit(main())
