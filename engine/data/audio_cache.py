"""The soundtrack of a ``clip+audio`` split, cached beside its frames through the same
record cache (engine.data.record_cache): stem ``S-audio``, one record per clip of ``2 L``
uint8 bytes, the clip's (L,) little-endian int16 mono waveform, read back as an (N, L)
int16 view of the memory map (no copy).

The plugin's chunks carry both frames and ``audio``; the frames cache takes the frames,
this one the waveforms, each with its own journal and checksums, so either is resumed or
rebuilt on its own. (A first build decodes the source twice, once per cache.)

An ``audio`` split (sound_folder) has no frames: its records are the waveforms themselves,
with their labels, in the split's own cache (``load_or_build_sounds``).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from engine.data.cache_writer import load_or_build
from engine.data.chunks import Chunk, SplitSpec
from engine.data.errors import DataError
from engine.data.record_cache import CachedSplit, CacheFiles, Progress

AUDIO_DTYPE = np.dtype("<i2")  # int16 PCM, full scale 32767


def audio_files(files: CacheFiles) -> CacheFiles:
    """The cache files of the soundtrack of the split whose frames live at ``files``."""
    return CacheFiles(files.stem.with_name(files.stem.name + "-audio"))


def as_bytes(audio: np.ndarray, length: int, what: str) -> np.ndarray:
    """(n, L) int16 waveforms -> (n, 2 L) uint8 records; one sentence if the shape is wrong."""
    a = np.asarray(audio)
    if a.ndim != 2 or a.shape[1] != length or a.dtype.kind not in "iu" or a.dtype.itemsize != 2:
        raise DataError(f"{what} gave audio of {a.shape} {a.dtype}, not (n, {length}) int16 waveforms")
    return np.ascontiguousarray(a.astype(AUDIO_DTYPE, copy=False)).view(np.uint8)


def as_waveforms(records: np.ndarray) -> np.ndarray:
    """(N, 2 L) uint8 records -> (N, L) int16 view of the same memory."""
    return records.view(AUDIO_DTYPE)


def _audio_chunks(chunks: Iterable[Chunk], length: int, what: str) -> Iterator[Chunk]:
    for c in chunks:
        if c.audio is None:
            raise DataError(f"{what} is a clip+audio split but gave a chunk without audio")
        yield Chunk(as_bytes(c.audio, length, what), None, c.consumed)


def load_or_build_audio(files: CacheFiles, key: dict, spec: Callable[[], SplitSpec],
                        chunks_from: Callable[[int], Iterable[Chunk]], progress: Progress | None = None,
                        what: str = "the split") -> np.ndarray:
    """(N, L) int16 waveforms of a split (a read-only memory map), built first when needed.
    ``spec()`` is the frames' SplitSpec, whose ``audio_samples`` is L."""
    length: list[int] = []

    def audio_spec() -> SplitSpec:
        s = spec()
        if s.audio_samples <= 0:
            raise DataError(f"{what} is a clip+audio split but declares no audio length")
        length.append(s.audio_samples)
        return SplitSpec(s.count, (2 * s.audio_samples,), (), False)

    def chunks(start: int) -> Iterator[Chunk]:
        return _audio_chunks(chunks_from(start), length[0], what)

    cached = load_or_build(audio_files(files), {**key, "audio": True}, audio_spec, chunks, progress,
                           f"{what} soundtrack")
    return as_waveforms(cached.images)


def load_or_build_sounds(files: CacheFiles, key: dict, spec: Callable[[], SplitSpec],
                         chunks_from: Callable[[int], Iterable[Chunk]], progress: Progress | None = None,
                         what: str = "the split") -> CachedSplit:
    """The cache of an ``audio`` split, whose chunks' ``samples`` are (n, L) int16 waveforms
    (``spec().sample_shape`` is (L,)): -> a CachedSplit whose ``images`` are the (N, 2 L)
    uint8 records (``as_waveforms`` views them as (N, L) int16), labels kept."""
    length: list[int] = []

    def byte_spec() -> SplitSpec:
        s = spec()
        if len(s.sample_shape) != 1 or s.sample_shape[0] <= 0:
            raise DataError(f"{what} is an audio split but declares records of shape {s.sample_shape}, not (L,)")
        length.append(s.sample_shape[0])
        return SplitSpec(s.count, (2 * s.sample_shape[0],), s.classes, s.labeled)

    def chunks(start: int) -> Iterator[Chunk]:
        for c in chunks_from(start):
            yield Chunk(as_bytes(c.samples, length[0], what), c.labels, c.consumed)

    return load_or_build(files, {**key, "audio": True}, byte_spec, chunks, progress, f"{what} sounds")
