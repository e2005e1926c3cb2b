"""Optimizers and the learning-rate schedule."""
from __future__ import annotations

import math

import torch
from torch.optim.lr_scheduler import LambdaLR


class LARS(torch.optim.Optimizer):
    """Layer-wise adaptive rate scaling (You, Gitman & Ginsburg, 2017) around SGD momentum.

    Biases and normalisation parameters (1-D tensors) get neither weight decay nor the trust
    ratio, as in SimCLR and BYOL."""

    def __init__(self, params, lr, momentum=0.9, weight_decay=0.0, eta=0.02):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, eta=eta))

    @torch.no_grad()
    def step(self, closure=None):
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                d = p.grad
                if p.ndim > 1:
                    d = d.add(p, alpha=group["weight_decay"])
                    pn, dn = torch.norm(p), torch.norm(d)
                    trust = torch.where((pn > 0) & (dn > 0), group["eta"] * pn / dn, torch.ones_like(pn))
                    d = d.mul(trust)
                state = self.state[p]
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = torch.clone(d).detach()
                else:
                    buf.mul_(group["momentum"]).add_(d)
                p.add_(buf, alpha=-group["lr"])
        return loss


def _groups(model: torch.nn.Module, weight_decay: float):
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def create_optimizer(model: torch.nn.Module, name: str, lr: float, weight_decay: float, momentum: float):
    if name == "sgd":
        return torch.optim.SGD(_groups(model, weight_decay), lr=lr, momentum=momentum)
    if name == "adamw":
        return torch.optim.AdamW(_groups(model, weight_decay), lr=lr)
    if name == "lars":
        return LARS([p for p in model.parameters() if p.requires_grad], lr=lr, momentum=momentum,
                    weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}")


class WarmupCosine:
    """Multiplier of the peak lr at a step: linear warm-up, then cosine (or constant) decay.

    A callable object rather than a lambda so the scheduler's state stays plain data."""

    def __init__(self, total_steps: int, warmup_steps: int, schedule: str = "cosine"):
        self.total, self.warmup, self.schedule = max(1, total_steps), warmup_steps, schedule

    def __call__(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / self.warmup
        if self.schedule == "constant":
            return 1.0
        progress = (step - self.warmup) / max(1, self.total - self.warmup)
        return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def create_scheduler(optimizer, total_steps: int, warmup_steps: int, schedule: str) -> LambdaLR:
    return LambdaLR(optimizer, WarmupCosine(total_steps, min(warmup_steps, total_steps // 2), schedule))
