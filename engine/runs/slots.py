"""Device slots of the run queue: how many runs (or evaluations) may run at once on which device.

A slot is named ``DEVICE/INDEX``: ``cpu/0``, ``cuda:1/0``. The default is one slot per GPU, or
one on the CPU when there is none (a second CPU run would only halve the speed of both).
"""
from __future__ import annotations

import re

from engine.params import ParamError

_DEVICE = re.compile(r"^(cpu|cuda:\d+)$")


def default_slots() -> list[str]:
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    return [f"cuda:{i}/0" for i in range(gpus)] or ["cpu/0"]


def parse_slots(text: str) -> list[str]:
    """``"cpu=2"`` or ``"cuda:0=2,cuda:1=1"`` -> slot names; ParamError (one sentence) otherwise."""
    out = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        device, _, n = part.partition("=")
        device = device.strip()
        if not _DEVICE.match(device):
            raise ParamError(f"--slots names devices cpu or cuda:N, not {device!r} (e.g. --slots cuda:0=2,cuda:1=2)")
        try:
            count = int(n or "1")
        except ValueError:
            count = -1
        if not 1 <= count <= 64:
            raise ParamError(f"--slots {device} needs a whole number of slots from 1 to 64, not {n!r}")
        out += [f"{device}/{i}" for i in range(count)]
    if not out:
        raise ParamError("--slots needs at least one device, e.g. --slots cpu=1")
    return out


def slot_device(slot: str) -> str:
    return slot.split("/", 1)[0]


def slot_env(slot: str) -> dict:
    """The environment that pins a process to its slot's device: one visible GPU, or none for a
    CPU slot (so ``device=auto`` trains on the CPU there)."""
    device = slot_device(slot)
    return {"CUDA_VISIBLE_DEVICES": device.split(":", 1)[1] if device.startswith("cuda:") else ""}
