"""What a dataset plugin streams into the on-disk cache: first a ``SplitSpec`` (how many
source items, the shape of one record), then ``Chunk``s of decoded records.

A record is a fixed-shape uint8 array: ``(H, W, 3)`` for an image, ``(T, H, W, 3)`` for a
clip. A ``clip+audio`` chunk also carries each clip's mono waveform, ``(n, L)`` int16 at
the dataset's sample rate (cached beside the frames, engine.data.audio_cache). Plugins decode a bounded number of records at a time (``chunk_length``), so memory
while building a split does not grow with the dataset.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

CHUNK_BYTES = 32 << 20  # about 32 MB of decoded records per chunk


@dataclass(frozen=True)
class SplitSpec:
    """count: source items the split is decoded from (an upper bound on its records, since
    unreadable items are skipped); sample_shape: one record's shape, e.g. (H, W, 3);
    classes: names by label index; labeled: whether chunks carry labels; audio_samples: the
    waveform length L of one record of a ``clip+audio`` split (0: no audio)."""

    count: int
    sample_shape: tuple[int, ...]
    classes: tuple[str, ...] = ()
    labeled: bool = False
    audio_samples: int = 0

    @property
    def record_bytes(self) -> int:
        return math.prod(self.sample_shape)


@dataclass(frozen=True)
class Chunk:
    """samples: (n, *sample_shape) uint8; labels: (n,) int64 or None; consumed: the source
    items this chunk covers (n plus the unreadable ones skipped), so a resumed build knows
    where to start again; audio: (n, L) int16 mono waveforms of a ``clip+audio`` split, or None."""

    samples: np.ndarray
    labels: np.ndarray | None = None
    consumed: int = field(default=-1)
    audio: np.ndarray | None = None

    def __post_init__(self):
        if self.consumed < 0:
            object.__setattr__(self, "consumed", len(self.samples))

    @property
    def skipped(self) -> int:
        return self.consumed - len(self.samples)


def chunk_length(sample_shape: tuple[int, ...], budget: int = CHUNK_BYTES) -> int:
    """Records per chunk so that one chunk is about ``budget`` bytes (at least 1)."""
    return max(1, budget // max(1, math.prod(sample_shape)))
