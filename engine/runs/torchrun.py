"""``train`` and ``resume`` under ``torchrun``: rank 0 owns the run, the other ranks train
beside it without touching the store (docs/distributed.md).

Rank 0 creates (or re-queues) the run row, then broadcasts the run id and its config; every
rank builds the same Trainer, loads the run's checkpoint when there is one, and trains. Rank 0
reports through the usual worker (store, heartbeat, progress bar); stop and pause requests
reach the other ranks through a per-step broadcast (engine.distributed.DistributedHooks).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from engine.runs.paths import RunPaths
from engine.training import distributed


def train_replica(home: Path, run_id: str, config: dict) -> int:
    """Train one non-zero rank: no store, no log, no checkpoints written. The run's folder is
    found without opening the store; multi-node resume needs it on a filesystem all nodes share."""
    from engine.training.trainer import Trainer

    paths = RunPaths(home)
    run_dir = paths.run(run_id)
    trainer = Trainer(config, run_dir, paths.cache)
    if run_dir.last_checkpoint.exists():  # rank 0 loads the same file in engine.runs.worker.execute
        trainer.load_checkpoint(run_dir.last_checkpoint)
    trainer.run()
    return 0


def _start_on_main(home: Path, start_run: Callable[[], str]) -> tuple[str, dict]:
    from engine.store.database import Store

    run_id = start_run()
    store = Store(home)
    try:
        return run_id, store.get_run(run_id, check_liveness=False).config
    finally:
        store.close()


def train_all_ranks(home: Path, start_run: Callable[[], str], run_foreground: Callable[[Path, str], int]) -> int:
    """Every rank calls this. ``start_run()`` runs on rank 0 only and returns the run id (it
    creates the run row, or prepares a resume); ``run_foreground(home, run_id)`` trains rank 0
    through the worker, with the progress bar."""
    info = distributed.init_from_env()
    try:
        run = None
        if info.is_main:
            try:
                run = _start_on_main(home, start_run)
            except BaseException:
                distributed.broadcast_object(None)  # the other ranks stop quietly
                raise
        run = distributed.broadcast_object(run)
        if run is None:
            return 2  # rank 0 printed why
        run_id, config = run
        if info.is_main:
            return run_foreground(home, run_id)
        return train_replica(home, run_id, config)
    finally:
        distributed.shutdown()
