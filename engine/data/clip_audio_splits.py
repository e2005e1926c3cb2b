"""What a clip dataset with a soundtrack adds to its splits: the waveform of every clip
covers the clip's seconds, ``frames / fps``, at ``sample_rate`` samples per second, and the
split's ``SplitSpec`` states that length (``audio_samples``, the L of ``AVBatch``'s (N, L)
waveforms; as the audio-visual methods of Arandjelovic & Zisserman, 2017 read them)."""
from __future__ import annotations

from engine.data.chunks import SplitSpec


class ClipAudioSplits:
    """Mixin ahead of a clip ``DatasetPlugin`` whose schema has ``frames``, ``fps`` and
    ``sample_rate``: ``class SoundingShapes(ClipAudioSplits, MovingShapes)``."""

    def audio_samples(self) -> int:
        """Samples L of one clip's waveform."""
        p = self.params
        return round(p["frames"] / p["fps"] * p["sample_rate"])

    def split_spec(self, name: str) -> SplitSpec:
        """The clip split's spec with ``audio_samples`` set."""
        s = super().split_spec(name)
        return SplitSpec(s.count, s.sample_shape, s.classes, s.labeled, self.audio_samples())
