"""What an audio-visual method's ``training_step`` receives: a batch of clips with their
soundtracks, on the device.

``AVBatch.frames``: (N, T, 3, H, W) uint8 clips; ``audio``: (N, L) int16 mono waveforms
(full scale 32767) covering the same T / fps seconds; ``sample_rate``: Hz. Indexing or
slicing selects clips of both, ``len`` is N, ``to`` moves both.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine.data.tensors import images_to_tensor


@dataclass(frozen=True)
class AVBatch:
    frames: torch.Tensor
    audio: torch.Tensor
    sample_rate: int

    def __post_init__(self):
        if self.frames.ndim != 5 or self.audio.ndim != 2 or len(self.frames) != len(self.audio):
            raise ValueError(f"an audio-visual batch needs (N, T, 3, H, W) clips and (N, L) waveforms, got "
                             f"{tuple(self.frames.shape)} and {tuple(self.audio.shape)}")

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, idx) -> AVBatch:
        return AVBatch(self.frames[idx], self.audio[idx], self.sample_rate)

    @property
    def device(self) -> torch.device:
        return self.frames.device

    @property
    def seconds(self) -> float:
        """Length of each clip's sound in seconds."""
        return self.audio.shape[1] / self.sample_rate

    def to(self, device, non_blocking: bool = False) -> AVBatch:
        return AVBatch(self.frames.to(device, non_blocking=non_blocking),
                       self.audio.to(device, non_blocking=non_blocking), self.sample_rate)

    def waveforms(self) -> torch.Tensor:
        """(N, L) float32 in [-1, 1]."""
        return self.audio.float() / 32767.0


def av_batch(images: np.ndarray, audio: np.ndarray, sample_rate: int) -> AVBatch:
    """A split's (N, T, H, W, 3) uint8 clips and (N, L) int16 waveforms -> an AVBatch (CPU)."""
    return AVBatch(images_to_tensor(images), torch.from_numpy(np.array(audio, dtype=np.int16)), int(sample_rate))
