"""Momentum (EMA) target networks shared by MoCo, BYOL and DINO.

A target network is a frozen copy of some online modules whose weights follow the online
ones as an exponential moving average, ``target <- m * target + (1 - m) * online``
(He et al., 2020, "momentum encoder"; Grill et al., 2020, "target network"; Caron et al.,
2021, "teacher"). BYOL and DINO raise ``m`` from a base value to 1 with a cosine schedule
over training; MoCo v2 keeps it constant.
"""
from __future__ import annotations

import copy
import math

import torch
from torch import nn

SCHEDULES = ("cosine", "constant")


def cosine_momentum(base: float, progress: float) -> float:
    """``1 - (1 - base) * (cos(pi * progress) + 1) / 2``: ``base`` at the start, 1 at the end
    (Grill et al., 2020, eq. in section 3.2). ``progress`` in [0, 1]."""
    progress = min(max(progress, 0.0), 1.0)
    return 1.0 - (1.0 - base) * (math.cos(math.pi * progress) + 1.0) / 2.0


def momentum_at(base: float, progress: float, schedule: str = "cosine") -> float:
    if schedule == "constant":
        return base
    if schedule == "cosine":
        return cosine_momentum(base, progress)
    raise ValueError(f"unknown momentum schedule {schedule!r} (known: {', '.join(SCHEDULES)})")


@torch.no_grad()
def ema_update(target: nn.Module, online: nn.Module, m: float) -> None:
    """target parameters <- m * target + (1 - m) * online, in place.

    Only parameters move: the target's BatchNorm running statistics come from its own
    forward passes, as in the reference implementations."""
    for pt, po in zip(target.parameters(), online.parameters()):
        pt.mul_(m).add_(po.detach(), alpha=1.0 - m)


def frozen_copy(module: nn.Module) -> nn.Module:
    """A deep copy that takes no gradients (so the optimizer never sees it)."""
    target = copy.deepcopy(module)
    for p in target.parameters():
        p.requires_grad_(False)
    return target


class MomentumPair(nn.Module):
    """Online modules and their EMA targets.

    ``online``: name -> module, e.g. ``{"backbone": ..., "projector": ...}``. The online
    modules stay registered where the method registered them (they are only referenced
    here, so checkpoints hold them once); ``self.target[name]`` is the frozen copy.
    Call ``update(progress)`` after every optimizer step; ``momentum`` is the last ``m``
    used, for logging."""

    def __init__(self, online: dict[str, nn.Module], base_momentum: float = 0.99, schedule: str = "cosine"):
        super().__init__()
        momentum_at(base_momentum, 0.0, schedule)  # reject an unknown schedule now
        self._online = (dict(online),)  # a tuple is not registered as a submodule
        self.target = nn.ModuleDict({name: frozen_copy(m) for name, m in online.items()})
        self.base_momentum, self.schedule = base_momentum, schedule
        self.momentum = base_momentum

    @property
    def online(self) -> dict[str, nn.Module]:
        return self._online[0]

    def update(self, progress: float) -> float:
        self.momentum = momentum_at(self.base_momentum, progress, self.schedule)
        for name, target in self.target.items():
            ema_update(target, self.online[name], self.momentum)
        return self.momentum

    def __getitem__(self, name: str) -> nn.Module:
        return self.target[name]


def momentum_params(default: float = 0.99, schedule: str = "cosine"):
    """Schema entries for a method with a momentum target."""
    from engine.params import Param

    return [
        Param("base_momentum", "float", default, "EMA momentum m of the target network at the start", 0.0, 1.0),
        Param("momentum_schedule", "choice", schedule,
              "cosine: m rises to 1 over training (BYOL); constant: m stays at its base (MoCo v2)",
              choices=SCHEDULES),
    ]
