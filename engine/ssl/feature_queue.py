"""A first-in first-out memory of feature vectors: MoCo's queue of negatives (He et al.,
2020) and SwAV's queue that makes small batches large enough for balanced assignments
(Caron et al., 2020). Kept as buffers, so checkpoints carry it and ``.to(device)`` moves it.

Every vector may carry an integer tag (e.g. the id of the image it came from), so that a
user can tell which entries came from the same source as a new query: MoCo masks a query's
own image out of its negatives, which keeps any queue length safe on a small dataset."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class FeatureQueue(nn.Module):
    """``items``: (size, dim); ``tags``: (size,) int64, -1 where none was given. ``random_init``
    fills ``items`` with random unit vectors, as MoCo does, so it can serve as negatives from
    the first step; otherwise only the ``count`` vectors pushed so far are valid (``valid()``)."""

    def __init__(self, size: int, dim: int, random_init: bool = True):
        super().__init__()
        init = F.normalize(torch.randn(size, dim), dim=1) if random_init else torch.zeros(size, dim)
        self.register_buffer("items", init)
        self.register_buffer("tags", torch.full((size,), -1, dtype=torch.long))
        self.register_buffer("ptr", torch.zeros((), dtype=torch.long))
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @property
    def size(self) -> int:
        return self.items.shape[0]

    @property
    def full(self) -> bool:
        return int(self.count) >= self.size

    def valid(self) -> torch.Tensor:
        """(count, dim): the vectors pushed so far (all of ``items`` once full)."""
        return self.items[: int(self.count)]

    @torch.no_grad()
    def push(self, x: torch.Tensor, tags: torch.Tensor | None = None) -> None:
        """x: (B, dim); tags: (B,) integers or None (stored as -1). The oldest entries are
        overwritten; with B > size the newest win."""
        x = x.detach()[-self.size:].to(self.items.dtype)
        idx = (int(self.ptr) + torch.arange(x.shape[0], device=self.items.device)) % self.size
        self.items[idx] = x
        self.tags[idx] = -1 if tags is None else tags[-self.size:].to(self.tags)
        self.ptr.fill_((int(self.ptr) + x.shape[0]) % self.size)
        self.count.fill_(min(self.size, int(self.count) + x.shape[0]))

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        # checkpoints written before queues kept tags: their entries are untagged (-1)
        state_dict.setdefault(prefix + "tags", torch.full_like(self.tags, -1))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
