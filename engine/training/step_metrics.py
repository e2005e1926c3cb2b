"""Per-step metrics held on the device between host syncs.

Reading a CUDA tensor on the host (``.item()``, ``if torch.isfinite(loss)``) waits for every
queued kernel, so a loop that reads its loss each step keeps the GPU idle while Python
prepares the next one. The trainer instead keeps each step's metrics as device tensors and
reads all pending steps with one copy (``to_host``) at most every ``SYNC_SECONDS`` — well
inside the monitor's 1 s latency target — and at epoch ends, checkpoints and stop requests.
Every step still gets its own row of host numbers.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

SYNC_SECONDS = 0.25   # the longest a step's metrics wait on the device before they are read
MAX_PENDING = 256     # steps held at most (fast GPU steps): bounds memory and a burst's size


@dataclass(frozen=True)
class StepRow:
    step: int
    metrics: dict[str, float]


def to_host(values: list[torch.Tensor]) -> list[float]:
    """0-d tensors (one device) -> their values, with one device-to-host copy: the one host
    sync of a sync interval."""
    if not values:
        return []
    device = values[0].device
    return torch.stack([v.detach().float().reshape(()).to(device) for v in values]).tolist()


def first_non_finite(rows: list[StepRow], key: str = "loss") -> int | None:
    """Index of the first row whose ``key`` is NaN or infinite, or None."""
    for i, row in enumerate(rows):
        if key in row.metrics and not math.isfinite(row.metrics[key]):
            return i
    return None


class PendingSteps:
    """Steps whose metrics are still on the device, oldest first."""

    def __init__(self, sync_seconds: float | None = None, max_pending: int = MAX_PENDING):
        self.sync_seconds = SYNC_SECONDS if sync_seconds is None else sync_seconds  # read now: tests set it
        self.max_pending = max_pending
        self.steps: list[tuple[int, dict]] = []
        self.last_sync = time.monotonic()

    def __len__(self) -> int:
        return len(self.steps)

    def add(self, step: int, values: dict) -> None:
        """values: name -> 0-d tensor (read later) or a host number."""
        self.steps.append((step, values))

    def due(self) -> bool:
        return bool(self.steps) and (len(self.steps) >= self.max_pending
                                     or time.monotonic() - self.last_sync >= self.sync_seconds)

    def drain(self) -> list[StepRow]:
        """Every pending step as host numbers, oldest first; nothing stays pending."""
        slots = [(i, k) for i, (_, vals) in enumerate(self.steps) for k, v in vals.items() if torch.is_tensor(v)]
        host = to_host([self.steps[i][1][k] for i, k in slots])
        rows = [StepRow(step, {k: v if torch.is_tensor(v) else float(v) for k, v in vals.items()})
                for step, vals in self.steps]
        for (i, k), value in zip(slots, host):
            rows[i].metrics[k] = value
        self.steps = []
        self.last_sync = time.monotonic()
        return rows
