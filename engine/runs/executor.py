"""Executors: what the run queue (engine/runs/queue.py) uses to start the work it claimed.

``LocalExecutor`` starts processes on this machine with ``engine.runs.process_control`` (the
one launcher): a worker per run, an evaluation process per trained run. ``RayExecutor``
(engine/runs/ray_executor.py, an optional extra) is the same protocol on a Ray cluster.
"""
from __future__ import annotations

import socket
import subprocess
from pathlib import Path
from typing import Protocol

from engine.runs import process_control
from engine.runs.slots import slot_env
from engine.store.liveness import pid_alive
from engine.store.queue_table import QueueItem


class Executor(Protocol):
    def start_training(self, home: Path, run_id: str, slot: str) -> int:
        """Start training the (queued) run in ``slot``; the pid of the process holding the slot."""

    def start_evaluation(self, home: Path, run_id: str, slot: str) -> int:
        """Start the sweep's evaluations of the (trained) run in ``slot``; the holder's pid."""

    def holder_alive(self, item: QueueItem) -> bool:
        """Whether the process holding ``item``'s slot still runs."""

    def reap(self) -> None:
        """Collect processes that ended (no zombies in a long-running scheduler)."""


class LocalExecutor:
    def __init__(self):
        self.children: list[subprocess.Popen] = []

    def start_training(self, home: Path, run_id: str, slot: str) -> int:
        proc = process_control.spawn_worker(Path(home), run_id, env=slot_env(slot))
        self.children.append(proc)
        return proc.pid

    def start_evaluation(self, home: Path, run_id: str, slot: str) -> int:
        from engine.runs.paths import RunPaths

        log = RunPaths(home).run(run_id).eval_out
        proc = process_control.spawn(["-m", "engine.sweeps.auto_eval", run_id, "--home", str(home), "--slot", slot],
                                     log, env=slot_env(slot))
        self.children.append(proc)
        return proc.pid

    def holder_alive(self, item: QueueItem) -> bool:
        if item.holder_pid is None:
            return False
        if item.holder_host != socket.gethostname():
            return True  # another machine's process: its heartbeat (the run's) tells
        self.reap()
        return pid_alive(item.holder_pid)

    def reap(self) -> None:
        self.children[:] = [p for p in self.children if p.poll() is None]

    def terminate_all(self, timeout: float = 10.0) -> None:
        """Stop every process this executor started (tests)."""
        for p in self.children:
            if p.poll() is None:
                p.terminate()
        for p in self.children:
            try:
                p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.children.clear()
