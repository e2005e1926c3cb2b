"""What the queue still has to do for a run (``queue.stage``; engine/runs/queue.py)."""
from __future__ import annotations

from enum import Enum


class QueueStage(str, Enum):
    TRAIN = "train"   # waiting for a slot to train in, or training in one
    EVAL = "eval"     # trained: waiting for a slot to be evaluated in, or being evaluated
    DONE = "done"     # nothing left to do (evaluated, or it failed, was stopped or cancelled)

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)
