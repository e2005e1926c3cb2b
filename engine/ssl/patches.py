"""Batched patch extraction for the context-prediction pretext tasks (jigsaw, relative
position, CPC): where the tiles of a jittered grid start, how to cut them out of a batch
in one indexing operation, and how to show them.

All randomness comes from the caller's CPU ``torch.Generator`` so the stream is the same on
any device; the crops themselves run on the images' device.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def grid_origins(n: int, grid: int, size: int, tile: int, gen: torch.Generator | None,
                 jitter: bool = True, max_jitter: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-left corners of a ``grid x grid`` layout of ``tile``-px tiles in ``size``-px images.

    The image is split into cells of ``size // grid`` px. With ``max_jitter=None`` each tile
    lies anywhere inside its cell (Noroozi & Favaro, 2016: 64-px tiles in 75-px cells), so two
    neighbours may touch. With ``max_jitter=j`` each tile sits centred in its cell and moves by
    at most j px each way (Doersch et al., 2015: a 48-px gap and up to 7 px of jitter), and
    j must leave a gap: ``2 j < cell - tile``, so tiles never touch. Returns ``(tops, lefts)``,
    each (n, grid * grid) int64 in row-major tile order."""
    cell = size // grid
    if tile > cell:
        raise ValueError(f"a {tile}-px tile does not fit a {cell}-px cell")
    start = (size - grid * cell) // 2
    slack = cell - tile
    k = grid * grid
    if max_jitter is not None:
        if 2 * max_jitter >= slack:
            raise ValueError(f"{max_jitter} px of jitter closes the {slack}-px gap between tiles")
        centre = slack // 2
        dy = centre + torch.randint(-max_jitter, max_jitter + 1, (n, k), generator=gen)
        dx = centre + torch.randint(-max_jitter, max_jitter + 1, (n, k), generator=gen)
    elif jitter and slack > 0:
        dy = torch.randint(0, slack + 1, (n, k), generator=gen)
        dx = torch.randint(0, slack + 1, (n, k), generator=gen)
    else:
        dy = dx = torch.full((n, k), slack // 2, dtype=torch.long)
    rows = torch.arange(k) // grid
    cols = torch.arange(k) % grid
    return start + rows * cell + dy, start + cols * cell + dx


def crop_patches(x: torch.Tensor, tops: torch.Tensor, lefts: torch.Tensor, tile: int) -> torch.Tensor:
    """x: (N, C, H, W); tops, lefts: (N, K) -> (N, K, C, tile, tile), one gather for the batch."""
    n = x.shape[0]
    tops, lefts = tops.to(x.device), lefts.to(x.device)
    offs = torch.arange(tile, device=x.device)
    rows = (tops[:, :, None] + offs)[:, :, :, None]           # (N, K, t, 1)
    cols = (lefts[:, :, None] + offs)[:, :, None, :]          # (N, K, 1, t)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    patches = x.permute(0, 2, 3, 1)[batch, rows, cols]        # (N, K, t, t, C)
    return patches.permute(0, 1, 4, 2, 3).contiguous()


def standardize(patches: torch.Tensor, per_channel: bool = True, eps: float = 1e-5) -> torch.Tensor:
    """Each patch (and channel, if ``per_channel``) to zero mean and unit variance.

    patches: (..., C, h, w). Removes the low-level shortcuts (mean colour and contrast that
    continue across tile borders) noted by Noroozi & Favaro (2016)."""
    dims = (-2, -1) if per_channel else (-3, -2, -1)
    mean = patches.mean(dim=dims, keepdim=True)
    std = patches.std(dim=dims, keepdim=True)
    return (patches - mean) / (std + eps)


def upsample_to(patches: torch.Tensor, size: int) -> torch.Tensor:
    """(M, C, h, w) -> (M, C, size, size) bilinear, unchanged if already that size: backbones
    need at least 16 px, tiles are often smaller."""
    if patches.shape[-1] == size and patches.shape[-2] == size:
        return patches
    return F.interpolate(patches, size=(size, size), mode="bilinear", align_corners=False)


def to_unit_range(patches: torch.Tensor) -> torch.Tensor:
    """Min-max each patch to [0, 1] for display. patches: (..., C, h, w)."""
    lo = patches.amin(dim=(-3, -2, -1), keepdim=True)
    hi = patches.amax(dim=(-3, -2, -1), keepdim=True)
    return (patches - lo) / (hi - lo).clamp(min=1e-6)


def mosaic(patches: torch.Tensor, grid: int, gap: int = 1, scale: int = 2) -> torch.Tensor:
    """Lay out (N, grid * grid, C, t, t) patches in [0, 1] as (N, C, S, S) images, ``scale``
    times upscaled with a ``gap``-px white border between them, for previews."""
    n, k, c, t, _ = patches.shape
    if scale > 1:
        patches = F.interpolate(patches.reshape(n * k, c, t, t), scale_factor=scale, mode="nearest")
        t *= scale
        patches = patches.reshape(n, k, c, t, t)
    side = grid * t + (grid + 1) * gap
    out = torch.ones(n, c, side, side, device=patches.device, dtype=patches.dtype)
    for i in range(k):
        r, q = divmod(i, grid)
        top, left = gap + r * (t + gap), gap + q * (t + gap)
        out[:, :, top:top + t, left:left + t] = patches[:, i]
    return out
