"""One class (or target) per image for the instance-level pretext tasks (Exemplar-CNN,
Dosovitskiy et al., 2014; Noise As Targets, Bojanowski & Joulin, 2017), without dataset
indices: each image is known by the 61-bit hash of its pixels (``image_ids``, collisions
negligible), and a table gives every new hash the next free slot, 0, 1, 2, ..., so distinct
images never share a class while the table has room. The table holds ``capacity`` images
(the dataset size the method is set up for); images beyond it share slots (hash modulo
capacity), and the method's docs say so.

The table is module state (checkpoints carry it, so a resumed run keeps its classes). Under
torchrun every rank admits the hashes of the whole global batch in the same (sorted) order,
so slots agree across ranks. Admitting new images costs one host sync per step (their
number is data dependent)."""
from __future__ import annotations

import torch
from torch import nn

from engine.ssl.image_ids import image_ids
from engine.training.distributed import concat_all_gather

_HASH_IDS = 2**61 - 1
_EMPTY = 2**62  # above every hash: empty entries sort last


class InstanceIds(nn.Module):
    """``forward(x)``: x (N, 3, H, W) uint8 -> (N,) int64 slots in [0, capacity)."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity = capacity
        self.register_buffer("keys", torch.full((capacity,), _EMPTY, dtype=torch.long))   # sorted hashes
        self.register_buffer("values", torch.zeros(capacity, dtype=torch.long))          # their slots
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    def _find(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pos = torch.searchsorted(self.keys, h).clamp(max=self.capacity - 1)
        return pos, self.keys[pos] == h

    @torch.no_grad()
    def admit(self, h: torch.Tensor) -> None:
        """Give each hash of ``h`` (M,) not seen before the next free slot, in sorted order."""
        _, known = self._find(h)
        n = int(self.count)
        new = torch.unique(h[~known])[: self.capacity - n]
        if new.numel() == 0:
            return
        keys = torch.cat([self.keys[:n], new])
        values = torch.cat([self.values[:n], torch.arange(n, n + new.numel(), device=h.device)])
        order = torch.argsort(keys)
        m = n + new.numel()
        self.keys[:m], self.values[:m] = keys[order], values[order]
        self.count.fill_(m)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = image_ids(x, _HASH_IDS)
        self.admit(concat_all_gather(h))
        pos, found = self._find(h)
        return torch.where(found, self.values[pos], h % self.capacity)  # a full table: shared slots
