"""Train a method plugin directly for a few steps (no store, no worker): the shared helper of
the method tests. Small on purpose: one CPU thread, tiny images, a tiny convnet."""
from __future__ import annotations

import functools

import torch

from engine import registry
from engine.data.tensors import images_to_tensor


@functools.lru_cache(maxsize=8)
def shapes_split(image_size: int = 16, train_size: int = 256, num_classes: int = 4, split: str = "train"):
    """(images (N, 3, S, S) uint8, labels (N,), class names) of the built-in ``shapes`` data."""
    registry.discover()
    data = registry.create_dataset("shapes", {"image_size": image_size, "train_size": train_size,
                                              "test_size": max(12, train_size // 4), "num_classes": num_classes})
    s = data.split(split)
    return images_to_tensor(s.images), torch.from_numpy(s.labels), tuple(s.classes)


def build_method(method_id: str, params: dict | None = None, image_size: int = 16, width: int = 8,
                 num_classes: int = 4, seed: int = 0):
    registry.discover()
    torch.manual_seed(seed)
    backbone = registry.create_backbone("convnet", {"width": width}, image_size)
    method = registry.create_method(method_id, backbone, params, image_size, num_classes)
    method.set_seed(seed)
    return method


def train_method(method_id: str, steps: int, params: dict | None = None, image_size: int = 16,
                 train_size: int = 256, width: int = 8, batch_size: int = 32, lr: float = 2e-3,
                 num_classes: int = 4, seed: int = 0):
    """Train ``method_id`` for ``steps`` Adam steps on shapes; return (method, history), where
    history is one dict of float metrics (loss included) per step."""
    torch.set_num_threads(1)
    images, labels, _ = shapes_split(image_size, train_size, num_classes)
    method = build_method(method_id, params, image_size, width, num_classes, seed)
    method.train()
    opt = torch.optim.Adam(method.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    history = []
    for step in range(steps):
        idx = torch.randint(len(images), (batch_size,), generator=order)
        y = labels[idx] if method.needs_labels else None
        out = method.training_step(images[idx], y)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        method.on_step_end((step + 1) / steps)
        history.append({k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in out.items()})
    return method, history


def mean_metric(history: list[dict], key: str, first: int | None = None, last: int | None = None) -> float:
    """Mean of ``key`` over the first or last few steps of a history."""
    rows = history[:first] if first else history[-last:]
    return sum(r[key] for r in rows) / len(rows)
