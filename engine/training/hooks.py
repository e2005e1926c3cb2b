"""What the trainer reports through: the ``TrainerHooks`` protocol.

The trainer knows nothing of the store, the terminal or other ranks; the worker
(engine.runs.worker.WorkerHooks), torchrun (engine.training.distributed.DistributedHooks) and
tests provide hooks. Every method is called directly, so a hooks class that lacks one fails
at once instead of being silently skipped.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class TrainerHooks(Protocol):
    def on_step(self, step: int, total: int, epoch: float, metrics: dict) -> None:
        """After every optimiser step; ``metrics`` are that step's values."""

    def on_epoch(self, epoch: int, metrics: dict) -> None:
        """After the last step of an epoch, before its checkpoint (``metrics``: epoch-level ones)."""

    def control(self) -> str:
        """"" to go on, "pause" or "stop" (read before every step)."""

    def text(self, message: str) -> None:
        """One line for the run's log."""

    def flush(self) -> None:
        """Store everything reported so far. Called before every checkpoint, so a resume from
        that checkpoint finds every metric row up to its step."""


class NullHooks:
    """Hooks that report nothing and never stop (benchmarks, tests, non-zero ranks)."""

    def on_step(self, step, total, epoch, metrics) -> None: ...
    def on_epoch(self, epoch, metrics) -> None: ...
    def control(self) -> str: return ""
    def text(self, message) -> None: ...
    def flush(self) -> None: ...
