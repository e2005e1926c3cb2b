"""Stable per-image ids without dataset indices, for the instance-level pretext tasks
(Exemplar-CNN, Noise As Targets).

The trainer hands a method only the pixels ``(x, y)``, not where they came from. An image's
id is therefore a hash of its own pixels: an exact integer dot product of the uint8 image
with fixed pseudo-random weights (seeded, the same on every device), taken modulo the
number of ids. The same image always gets the same id, in any batch, epoch or run;
different images collide only by chance (with M images and K ids, about M/K images share
an id with another, a mild label noise the tasks tolerate; make K larger than the data to
keep it small).
"""
from __future__ import annotations

import torch

_PRIME = 2_147_483_647  # 2^31 - 1: weights below it keep every partial sum inside int64
_weights: dict = {}


def _hash_weights(shape: tuple, device) -> torch.Tensor:
    key = (shape, str(device))
    if key not in _weights:
        gen = torch.Generator().manual_seed(20140611)
        _weights[key] = torch.randint(1, _PRIME, shape, generator=gen, dtype=torch.int64).to(device)
    return _weights[key]


def image_ids(x: torch.Tensor, num_ids: int) -> torch.Tensor:
    """x: (N, 3, H, W) uint8 -> (N,) int64 ids in [0, num_ids).

    sum over pixels of value (< 2^8) times weight (< 2^31) stays below 2^63 for images up
    to 2^24 values (e.g. 2300 x 2300 RGB), so the hash is exact integer arithmetic."""
    if x.dtype != torch.uint8:
        raise TypeError("image_ids hashes the raw uint8 pixels")
    w = _hash_weights(tuple(x.shape[1:]), x.device)
    h = (x.to(torch.int64) * w).flatten(1).sum(1)
    h = (h % _PRIME) * 2654435761 % (2**61 - 1)  # spread the residues before the final modulo
    return h % num_ids
