"""Frames as images: a clip dataset seen by an image method, an image backbone or an image
protocol, as lightly's video dataset serves the frames of its videos one by one.

``frames_view`` turns a split of (N, T, H, W, 3) clips into one of (N*T, H, W, 3) frames
with every label repeated T times (frame ``i`` belongs to clip ``i // T``); the records
are not copied (a reshape of the cache's memory map is still a memory map of the same
file). ``FramesOf`` wraps a whole clip dataset that way, so the trainer, the online
monitors and the evaluation read its frames exactly like an image dataset's images.
"""
from __future__ import annotations

import numpy as np

from engine.capabilities import SampleKind
from engine.data.dataset import DatasetPlugin, Split


def frames_view(split: Split) -> Split:
    """A split of (N, T, H, W, 3) clips -> a split of (N*T, H, W, 3) frames, labels and
    targets repeated T times; an image split is returned as it is."""
    if split.images.ndim == 4:
        return split
    n, t = split.images.shape[:2]
    frames = split.images.reshape(n * t, *split.images.shape[2:])
    labels = None if split.labels is None else np.repeat(split.labels, t)
    targets = {k: np.repeat(v, t) for k, v in split.targets.items()}
    return Split(frames, labels, list(split.classes), split.skipped, targets)


def clip_of_frame(frame_index: np.ndarray, frames_per_clip: int) -> np.ndarray:
    """(K,) frame indices of a ``frames_view`` -> (K,) indices of the clips they come from."""
    return np.asarray(frame_index) // frames_per_clip


class FramesOf(DatasetPlugin):
    """The clip dataset ``inner`` with every split as frames (``frames_view``). Everything
    else (id, params, splits, labels, cache) is the inner dataset's."""

    sample_kind = SampleKind.IMAGE

    def __init__(self, inner: DatasetPlugin):
        super().__init__(inner.cache_dir, **inner.params)
        self.inner = inner
        self.id, self.title, self.splits = inner.id, inner.title, inner.splits
        self.has_labels, self.target_classes = inner.has_labels, inner.target_classes

    @property
    def image_size(self) -> int:
        return self.inner.image_size

    def check(self) -> None:
        self.inner.check()

    def split(self, name: str, progress=None) -> Split:
        if name not in self._loaded:
            self._loaded[name] = frames_view(self.inner.split(name, progress))
        return self._loaded[name]

    def is_cached(self, name: str) -> bool:
        return self.inner.is_cached(name)


def as_input(dataset: DatasetPlugin, kind: SampleKind) -> DatasetPlugin:
    """``dataset`` as a consumer of ``kind`` samples reads it: a clip (or clip+audio) dataset's
    frames for an image consumer (``FramesOf``), else the dataset itself (a clip consumer of a
    clip+audio dataset reads its clips and leaves the audio)."""
    if SampleKind(kind) == SampleKind.IMAGE and SampleKind(dataset.sample_kind) in (SampleKind.CLIP,
                                                                                  SampleKind.CLIP_AUDIO):
        return FramesOf(dataset)
    return dataset
