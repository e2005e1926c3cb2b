"""The soundtracks of a clip+audio split beside the BatchSource's clips: each step's
waveforms are gathered from the cache's (N, L) int16 memory map at the same indices as the
clips (sorted reads, so the file is read forward) and sent to the device, so host memory
stays one batch of sound whatever the split's size. The step's batch becomes an AVBatch.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.data.av_batch import AVBatch
from engine.data.dataset import DataError, Split


class AudioBatches:
    def __init__(self, split: Split, device: torch.device):
        """split: a clip+audio split (``audio`` (N, L) int16, ``sample_rate``)."""
        if split.audio is None:
            raise DataError("this method needs clips with sound; the dataset's split has no audio")
        self.audio, self.sample_rate, self.device = split.audio, int(split.sample_rate), device

    def with_sound(self, clips: torch.Tensor, idx: torch.Tensor) -> AVBatch:
        """clips: (B, T, 3, H, W) uint8 on the device, idx: (B,) their split indices -> AVBatch."""
        i = idx.cpu().numpy()
        order = np.argsort(i, kind="stable")
        rows = np.empty((len(i), self.audio.shape[1]), np.int16)
        rows[order] = self.audio[i[order]]
        audio = torch.from_numpy(rows).to(self.device, non_blocking=True)
        return AVBatch(clips, audio, self.sample_rate)
