"""What the video methods share: picking frames out of a batch of clips, augmenting a clip
the same way in every frame, a motion score, and laying tuples of frames side by side for
the input preview.

A batch of clips is (N, T, 3, H, W): uint8 as the batch path delivers it, float in [0, 1]
after ``to_float``. Frame indices are drawn on the CPU with the method's generator, so runs
are seeded like the image methods' augmentations.
"""
from __future__ import annotations

import torch

from engine.data.errors import DataError
from engine.ssl.augment import color_jitter, random_grayscale, resized_crop


def need_frames(x: torch.Tensor, frames: int, what: str) -> None:
    """DataError (one sentence) when the clips of ``x`` (N, T, ...) have fewer than ``frames``."""
    if x.ndim != 5:
        raise DataError(f"{what} takes clips (N, T, 3, H, W), got a batch of shape {tuple(x.shape)}")
    if x.shape[1] < frames:
        raise DataError(f"{what} needs clips of at least {frames} frames with these settings and the data has "
                        f"{x.shape[1]}; use longer clips or lower the method's clip settings (the quick preset does)")


def sorted_frames(n: int, t: int, k: int, gen: torch.Generator) -> torch.Tensor:
    """(n, k) int64 frame indices, each row ``k`` distinct frames of ``range(t)`` in increasing
    order, uniformly among such sets."""
    keys = torch.rand(n, t, generator=gen)
    return keys.topk(k, dim=1).indices.sort(dim=1).values


def gather_frames(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x: (N, T, C, H, W), idx: (N, K) frame indices -> (N, K, C, H, W)."""
    idx = idx.to(x.device)
    return x[torch.arange(len(x), device=x.device)[:, None], idx]


def motion_energy(x: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """x: (N, T, 3, H, W), idx: (N, K) -> (N,) mean absolute difference between successive
    chosen frames: a cheap stand-in for the optical-flow magnitude of Misra et al. (2016)."""
    frames = gather_frames(x, idx).float()
    return (frames[:, 1:] - frames[:, :-1]).abs().mean(dim=(1, 2, 3, 4))


def augment_clips(x: torch.Tensor, size: int, scale=(0.2, 1.0), flip_p: float = 0.5, jitter: float = 0.0,
                  jitter_p: float = 0.8, gray_p: float = 0.0, gen=None) -> torch.Tensor:
    """x: (N, T, 3, H, W) float in [0, 1] -> (N, T, 3, size, size): one random resized crop,
    flip, colour jitter and grayscale per clip, the same in all its frames (temporally
    consistent augmentation, Qian et al., 2021)."""
    n, t, c, h, w = x.shape
    y = resized_crop(x.reshape(n, t * c, h, w), size, scale, (3 / 4, 4 / 3), flip_p, gen)
    y = y.view(n, t, c, size, size)
    if jitter > 0 or gray_p > 0:  # frames stacked into one tall image share the draws
        tall = y.transpose(1, 2).reshape(n, c, t * size, size)
        if jitter > 0:
            tall = color_jitter(tall, jitter, jitter, jitter, min(0.1, jitter / 4), jitter_p, gen)
        if gray_p > 0:
            tall = random_grayscale(tall, gray_p, gen)
        y = tall.view(n, c, t, size, size).transpose(1, 2)
    return y.contiguous()


def as_single_frames(x: torch.Tensor) -> torch.Tensor:
    """(N, K, 3, H, W) -> (N*K, 1, 3, H, W): every frame a clip of its own, so any clip
    backbone encodes it alone (the siamese frame encoders of Misra et al., 2016)."""
    return x.flatten(0, 1).unsqueeze(1)


def tile_frames(x: torch.Tensor, gap: int = 1) -> torch.Tensor:
    """(N, K, 3, H, W) -> (N, 3, H, K*W + (K-1)*gap): the K frames side by side, white gaps
    between them, as the input preview draws a tuple."""
    n, k, c, h, w = x.shape
    out = torch.ones(n, c, h, k * w + (k - 1) * gap, dtype=x.dtype, device=x.device)
    for i in range(k):
        out[..., i * (w + gap):i * (w + gap) + w] = x[:, i]
    return out
