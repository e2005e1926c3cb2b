"""What the audio-visual methods share: pairing sound with frames from the same or another
clip, windows of sound at given times, time shifts, augmenting sound, and drawing a log-mel
spectrogram as an image for the input preview.

Waveforms are (N, L) float in [-1, 1] (``AVBatch.waveforms``); frames (N, T, 3, H, W).
Every draw uses the method's CPU generator, so runs are seeded like the image methods'.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.data.av_batch import AVBatch
from engine.data.errors import DataError


def need_audio(batch, what: str) -> AVBatch:
    """``batch`` when it is an AVBatch, else one sentence (DataError)."""
    if not isinstance(batch, AVBatch):
        shape = tuple(getattr(batch, "shape", ()))
        raise DataError(f"{what} needs clips with sound (a clip+audio dataset such as sounding_shapes), got a "
                        f"batch of shape {shape} without audio")
    return batch


def other_clip(n: int, gen: torch.Generator) -> torch.Tensor:
    """(n,) int64: for each clip i, a different clip j != i drawn uniformly (n >= 2)."""
    return (torch.arange(n) + torch.randint(1, max(2, n), (n,), generator=gen)) % max(1, n)


def windows(wave: torch.Tensor, start: torch.Tensor, length: int) -> torch.Tensor:
    """wave: (N, L), start: (N,) int64 sample offsets (0 <= start <= L - length) ->
    (N, length) windows, gathered on wave's device."""
    idx = start.to(wave.device)[:, None] + torch.arange(length, device=wave.device)[None]
    return wave.gather(1, idx)


def window_starts(n: int, total: int, length: int, gen: torch.Generator) -> torch.Tensor:
    """(n,) int64 uniform offsets of windows of ``length`` samples in ``total``."""
    return (torch.rand(n, generator=gen) * (total - length + 1)).floor().long().clamp(0, total - length)


def frame_at(times: torch.Tensor, seconds: float, frames: int) -> torch.Tensor:
    """(N,) times in seconds within clips of ``seconds`` and ``frames`` frames -> (N,) index
    of the frame shown at that time."""
    return (times / seconds * frames).floor().long().clamp(0, frames - 1)


def circular_shift(wave: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """wave: (N, L), shift: (N,) int64 samples -> each row rolled right by its shift."""
    length = wave.shape[1]
    idx = (torch.arange(length, device=wave.device)[None] - shift.to(wave.device)[:, None]) % length
    return wave.gather(1, idx)


def random_gain(wave: torch.Tensor, gen: torch.Generator, low_db: float = -6.0, high_db: float = 6.0) -> torch.Tensor:
    """wave: (N, L) -> each row scaled by a gain drawn uniformly in [low_db, high_db] dB."""
    db = low_db + (high_db - low_db) * torch.rand(len(wave), generator=gen)
    return wave * (10 ** (db / 20)).to(wave.device, wave.dtype)[:, None]


def spectrogram_image(spec: torch.Tensor, size: int) -> torch.Tensor:
    """spec: (N, M, T) log-mel -> (N, 3, size, size) grey images in [0, 1], low frequencies at
    the bottom, each spectrogram scaled to its own range (for the input preview)."""
    s = spec.flip(1)[:, None].float()
    lo = s.amin(dim=(2, 3), keepdim=True)
    hi = s.amax(dim=(2, 3), keepdim=True)
    s = (s - lo) / (hi - lo).clamp_min(1e-6)
    return F.interpolate(s, size=(size, size), mode="bilinear", align_corners=False).expand(-1, 3, -1, -1)
