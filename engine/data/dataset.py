"""What a dataset plugin gives the engine: splits of fixed-shape uint8 samples with optional
labels, decoded once into a streamed on-disk cache (engine.data.record_cache).

A dataset plugin subclasses ``DatasetPlugin``, declares ``id, title, summary, citation,
params`` (and ``sample_kind``: ``image`` records are (H, W, 3), ``clip`` records (T, H, W, 3))
and implements, per split,
``split_spec(name) -> SplitSpec`` (how many source items, one record's shape) and
``iter_split(name, start) -> Iterator[Chunk]`` (the decoded records from source item
``start`` on, a bounded chunk at a time). ``split(name)`` adds the cache and returns a
``Split`` whose images are a read-only memory map of it. A small plugin may instead
implement ``build_split(name) -> Split`` and return the whole split at once.

A dataset with more than one labelling (moving_shapes: shape and motion) keeps ``label`` in
the cache and declares the others in ``target_classes`` ({name: class names}); their (N,)
arrays come from ``extra_labels(split)`` and ride along as ``Split.targets``.

A ``clip+audio`` dataset (sounding_shapes, sounding_video_folder) also gives
each clip a mono waveform of fixed length at its ``sample_rate`` (a param or class
attribute): ``SplitSpec.audio_samples`` says the length, every ``Chunk`` carries ``audio``,
(n, L) int16, cached beside the frames (engine.data.audio_cache) and read back as
``Split.audio``.

An ``audio`` dataset (sound_folder: labeled sounds, no frames) streams its waveforms as
the records themselves: ``SplitSpec.sample_shape`` is (L,), ``Chunk.samples`` (n, L) int16;
its ``Split`` has ``images`` None and the waveforms in ``audio``. No method pre-trains on
it (capabilities.data_mismatch); the audio probe reads it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from engine.capabilities import SampleKind
from engine.data.audio_cache import (
    as_waveforms,
    audio_files,
    load_or_build_audio,
    load_or_build_sounds,
)
from engine.data.cache_limit import enforce_limit, touch
from engine.data.cache_writer import load_or_build
from engine.data.chunks import Chunk, SplitSpec, chunk_length
from engine.data.errors import DataError
from engine.data.record_cache import CacheFiles, Progress, open_cached
from engine.plugin_card import PluginCard

SPLITS = ("unlabeled", "train", "test")

__all__ = ["SPLITS", "DataError", "Split", "DatasetPlugin", "resize_images"]


_NDIM = {SampleKind.IMAGE: 4, SampleKind.CLIP: 5, SampleKind.CLIP_AUDIO: 5}


@dataclass
class Split:
    """images: (N, H, W, 3) uint8 RGB images or (N, T, H, W, 3) clips (a read-only np.memmap
    when cached), None for an ``audio`` split (sounds only); labels: (N,) int64 or None; classes: names by index; skipped: unreadable
    source items left out; targets: further labellings, {name: (N,) int64}; audio: (N, L)
    int16 mono waveforms of a clip+audio split (full scale 32767) at ``sample_rate`` Hz, or None."""

    images: np.ndarray | None
    labels: np.ndarray | None = None
    classes: list = field(default_factory=list)
    skipped: int = 0
    targets: dict = field(default_factory=dict)
    audio: np.ndarray | None = None
    sample_rate: int = 0

    def __post_init__(self):
        if self.images is None:
            self._check_sounds()
            return
        if self.images.dtype != np.uint8 or self.images.ndim not in (4, 5) or self.images.shape[-1] != 3:
            raise DataError(f"a split must hold (N, H, W, 3) uint8 images or (N, T, H, W, 3) uint8 clips, "
                            f"got {self.images.shape} {self.images.dtype}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise DataError("a split has a different number of labels and images")
        if any(len(t) != len(self.images) for t in self.targets.values()):
            raise DataError("a split has a different number of target labels and samples")
        if self.audio is not None:
            if self.audio.ndim != 2 or self.audio.dtype != np.int16 or len(self.audio) != len(self.images):
                raise DataError(f"a split's audio must be (N, L) int16 waveforms, one per clip, got "
                                f"{self.audio.shape} {self.audio.dtype} for {len(self.images)} clips")
            if self.sample_rate <= 0:
                raise DataError("a split with audio must state its sample rate")

    def _check_sounds(self) -> None:
        """An ``audio`` split: (N, L) int16 waveforms at a stated rate, labels to match."""
        if self.audio is None or self.audio.ndim != 2 or self.audio.dtype != np.int16:
            raise DataError("a split without images must hold (N, L) int16 waveforms in audio")
        if self.sample_rate <= 0:
            raise DataError("a split with audio must state its sample rate")
        if self.labels is not None and len(self.labels) != len(self.audio):
            raise DataError("a split has a different number of labels and sounds")

    @property
    def kind(self) -> SampleKind:
        """IMAGE for (N, H, W, 3) records, CLIP for (N, T, H, W, 3), CLIP_AUDIO with audio,
        AUDIO for sounds without images."""
        if self.images is None:
            return SampleKind.AUDIO
        if self.images.ndim == 4:
            return SampleKind.IMAGE
        return SampleKind.CLIP if self.audio is None else SampleKind.CLIP_AUDIO

    def __len__(self):
        return len(self.audio if self.images is None else self.images)

    @property
    def has_labels(self) -> bool:
        return self.labels is not None


class DatasetPlugin(PluginCard):
    """Base for dataset plugins. Subclasses set the class attributes and either
    ``split_spec`` + ``iter_split`` (streamed) or ``build_split`` (whole split at once)."""

    splits = SPLITS
    has_labels = True
    sample_kind = SampleKind.IMAGE
    target_classes: dict = {}  # further labellings besides ``label``: {name: class names}
    cacheable = True  # decoded splits are cached under <home>/cache/

    def __init__(self, cache_dir: Path | None = None, **params):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.params = params
        self._loaded: dict[str, Split] = {}
        self._whole: dict[str, Split] = {}  # build_split's results, for the streamed interface

    @property
    def image_size(self) -> int:
        """The ``image_size`` param, else the plugin's declared default (32 without one)."""
        declared = getattr(type(self), "params", [])  # the class's Params; self.params holds the values
        default = next((p.default for p in declared if p.name == "image_size"), 32)
        return int(self.params.get("image_size", default))

    @property
    def sample_rate(self) -> int:
        """Hz of a clip+audio dataset's waveforms (the ``sample_rate`` param), else 0."""
        return int(self.params.get("sample_rate", 0))

    def root_path(self) -> Path:
        """The ``root`` param (the folder a dataset reads its files from), ``~`` expanded."""
        return Path(str(self.params["root"])).expanduser()

    # --- what a plugin implements ------------------------------------------------------
    def build_split(self, name: str) -> Split:
        raise NotImplementedError(f"dataset {self.id} implements neither iter_split nor build_split")

    def split_spec(self, name: str) -> SplitSpec:
        """Source items and record shape of split ``name`` (default: from ``build_split``)."""
        s = self._built(name)
        return SplitSpec(len(s) + s.skipped, tuple(s.images.shape[1:]), tuple(s.classes), s.labels is not None,
                         0 if s.audio is None else int(s.audio.shape[1]))

    def iter_split(self, name: str, start: int = 0) -> Iterator[Chunk]:
        """Chunks of split ``name`` from source item ``start`` (default: ``build_split`` sliced;
        its skipped items are counted in the first chunk)."""
        s = self._built(name)
        step = chunk_length(s.images.shape[1:])
        first = True
        for i in range(max(0, start - s.skipped), len(s), step):
            j = min(i + step, len(s))
            extra = s.skipped if first and start == 0 else 0
            first = False
            yield Chunk(s.images[i:j], None if s.labels is None else s.labels[i:j], j - i + extra,
                        None if s.audio is None else s.audio[i:j])

    def check(self) -> None:
        """Raise DataError before any training starts if the data cannot be read."""

    def extra_labels(self, name: str) -> dict[str, np.ndarray]:
        """{target name: (N,) int64} of split ``name`` for each of ``target_classes``."""
        return {}

    # --- what the engine calls ---------------------------------------------------------
    def split(self, name: str, progress: Progress | None = None) -> Split:
        """Split ``name``, from the cache (built first, with ``progress(done, total, note)``)."""
        if name not in self.splits:
            raise DataError(f"dataset {self.id} has no {name!r} split (it has {', '.join(self.splits)})")
        if name not in self._loaded:
            split = self._cached(name, progress)
            want = _NDIM.get(SampleKind(self.sample_kind))
            if want is not None and split.images.ndim != want:
                raise DataError(f"dataset {self.id} declares {SampleKind(self.sample_kind).value} samples but its "
                                f"{name!r} split holds records of shape {tuple(split.images.shape[1:])}")
            if self.target_classes:
                split.targets = {k: np.asarray(v, np.int64) for k, v in self.extra_labels(name).items()}
                Split.__post_init__(split)
            self._loaded[name] = split
        return self._loaded[name]

    def prepare(self, progress: Progress | None = None) -> None:
        """Build the cache of every split now (the CLI does, with a progress bar)."""
        for name in self.splits:
            self.split(name, progress)

    def is_cached(self, name: str) -> bool:
        files = self._cache_files(name)
        return files is not None and open_cached(files, self._cache_key(name), verify=False) is not None

    def describe(self, progress: Progress | None = None) -> dict:
        """Sizes, classes and image size, for forms and previews (caching splits as needed)."""
        out = {"image_size": self.image_size, "splits": {}, "sample_kind": SampleKind(self.sample_kind).value}
        for name in self.splits:
            s = self.split(name, progress)
            out["splits"][name] = len(s)
            if s.images is not None and s.images.ndim == 5:
                out["frames"] = int(s.images.shape[1])
            if s.audio is not None:
                out["sample_rate"] = s.sample_rate
                out["audio_samples"] = int(s.audio.shape[1])
            if s.classes:
                out["classes"] = list(s.classes)
        return out

    # --- cache ---------------------------------------------------------------------
    def _built(self, name: str) -> Split:
        if name not in self._whole:
            self._whole[name] = self.build_split(name)
        return self._whole[name]

    def _cache_key(self, name: str) -> dict:
        return {"id": self.id, "params": self.params, "v": getattr(self, "version", 1), "split": name,
                "kind": SampleKind(self.sample_kind).value}

    def _cache_files(self, name: str) -> CacheFiles | None:
        if not self.cacheable or self.cache_dir is None:
            return None
        key = json.dumps({k: v for k, v in self._cache_key(name).items() if k != "split"},
                         sort_keys=True, default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        return CacheFiles(self.cache_dir / "datasets" / f"{self.id}-{digest}-{name}")

    def _cached(self, name: str, progress: Progress | None) -> Split:
        files = self._cache_files(name)
        if files is None:
            return self._collected(name)
        if SampleKind(self.sample_kind) == SampleKind.AUDIO:
            return self._cached_sounds(name, files, progress)
        c = load_or_build(files, self._cache_key(name), lambda: self.split_spec(name),
                          lambda start: self.iter_split(name, start), progress, f"{self.id} {name}")
        audio = None
        if SampleKind(self.sample_kind) == SampleKind.CLIP_AUDIO:
            audio = load_or_build_audio(files, self._cache_key(name), lambda: self.split_spec(name),
                                        lambda start: self.iter_split(name, start), progress, f"{self.id} {name}")
            if len(audio) != len(c.images):
                raise DataError(f"dataset {self.id} {name!r}: {len(c.images)} clips but {len(audio)} soundtracks "
                                "were cached; delete its cache to rebuild both")
        self._whole.pop(name, None)  # a build_split result is not kept beside its cache
        keep = files.complete() + (audio_files(files).complete() if audio is not None else [])
        for f in (files, audio_files(files)) if audio is not None else (files,):
            touch(f.header)
        enforce_limit(self.cache_dir, keep=tuple(keep))
        return Split(c.images, c.labels, list(c.classes), c.skipped, audio=audio,
                     sample_rate=self.sample_rate if audio is not None else 0)

    def _cached_sounds(self, name: str, files: CacheFiles, progress: Progress | None) -> Split:
        """An ``audio`` split from its cache of waveform records (engine.data.audio_cache)."""
        c = load_or_build_sounds(files, self._cache_key(name), lambda: self.split_spec(name),
                                 lambda start: self.iter_split(name, start), progress, f"{self.id} {name}")
        touch(files.header)
        enforce_limit(self.cache_dir, keep=tuple(files.complete()))
        return Split(None, c.labels, list(c.classes), c.skipped, audio=as_waveforms(c.images),
                     sample_rate=self.sample_rate)

    def _collected(self, name: str) -> Split:
        """Split ``name`` in memory, without a cache folder (tests, one-off use)."""
        if type(self).build_split is not DatasetPlugin.build_split:
            return self._built(name)
        spec = self.split_spec(name)
        if SampleKind(self.sample_kind) == SampleKind.AUDIO:
            return self._collected_sounds(name, spec)
        images = np.empty((spec.count, *spec.sample_shape), np.uint8)
        labels = np.empty(spec.count, np.int64) if spec.labeled else None
        audio = np.empty((spec.count, spec.audio_samples), np.int16) if spec.audio_samples else None
        n = skipped = 0
        for chunk in self.iter_split(name):
            images[n:n + len(chunk.samples)] = chunk.samples
            if labels is not None:
                labels[n:n + len(chunk.samples)] = chunk.labels
            if audio is not None:
                audio[n:n + len(chunk.samples)] = chunk.audio
            n, skipped = n + len(chunk.samples), skipped + chunk.skipped
        trim = (lambda a: a[:n].copy()) if n < spec.count else (lambda a: a)
        return Split(trim(images), None if labels is None else trim(labels), list(spec.classes), skipped,
                     audio=None if audio is None else trim(audio),
                     sample_rate=self.sample_rate if audio is not None else 0)

    def _collected_sounds(self, name: str, spec: SplitSpec) -> Split:
        """An ``audio`` split in memory: its chunks' (n, L) int16 waveforms, concatenated."""
        chunks = list(self.iter_split(name))
        audio = np.concatenate([np.asarray(c.samples, np.int16) for c in chunks]) if chunks else \
            np.zeros((0, spec.sample_shape[0]), np.int16)
        labels = np.concatenate([c.labels for c in chunks]).astype(np.int64) if spec.labeled and chunks else None
        return Split(None, labels, list(spec.classes), sum(c.skipped for c in chunks), audio=audio,
                     sample_rate=self.sample_rate)


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, size, size, 3) uint8 with antialiased bilinear resizing."""
    if images.shape[1] == size and images.shape[2] == size:
        return images
    from PIL import Image

    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))
    return out
