"""What the workbench's data preview shows of a dataset: sizes, classes and a few sample
images with their label names, as plain numpy arrays.

Building a dataset can take seconds to hours (shapes is generated on first use; the decoded
splits land in ``<home>/cache`` so the worker reuses them, and report their progress). The last dataset built is kept, so
the data and augmentation previews of one form share it; callers run these functions off
their GUI thread.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

import numpy as np

from engine.runs.paths import RunPaths

_lock = threading.Lock()
_last: dict = {}


@dataclass(frozen=True)
class DataSample:
    """``info``: ``DatasetPlugin.describe()``; ``images`` (n, H, W, 3) uint8 of split
    ``split`` with their class names in ``labels`` ("" when unlabeled); ``skipped``:
    unreadable files the split left out. For clip data ``images`` are the clips' middle
    frames and ``clips`` (n, T, H, W, 3) the whole clips (None for image data). For data with
    sound ``spectrograms`` are their (n, mels, frames) log-mel images in [0, 1]
    (engine.data.sound_preview; None without sound), ``sounds`` the (n, L) int16 waveforms
    themselves at ``sample_rate`` Hz (for playing them); a sounds-only dataset (sound_folder)
    has ``images`` None."""
    info: dict
    split: str
    images: np.ndarray | None
    labels: list[str]
    skipped: int
    clips: np.ndarray | None = None
    spectrograms: np.ndarray | None = None
    sounds: np.ndarray | None = None
    sample_rate: int | None = None


def preview_dataset(home, data_id: str, params: dict):
    """The dataset ``data_id`` with ``params``, checked; the last one asked for is reused."""
    from engine import registry

    key = json.dumps([data_id, params], sort_keys=True, default=str)
    with _lock:  # two previews asking at once build it once
        if _last.get("key") != key:
            _last.clear()
            dataset = registry.create_dataset(data_id, params, RunPaths(home).cache)
            dataset.check()
            _last.update(key=key, dataset=dataset)
        return _last["dataset"]


def preview_split(dataset):
    """(name, split): the train split when there is one, else the first split."""
    name = "train" if "train" in dataset.splits else dataset.splits[0]
    return name, dataset.split(name)


def sample_indices(n_images: int, count: int, seed: int = 0) -> np.ndarray:
    """``count`` distinct indices below ``n_images`` (all when fewer), sorted, seeded."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_images, size=min(count, n_images), replace=False))


def data_preview(home, data_id: str, params: dict, n: int = 24, progress=None) -> DataSample:
    """Sizes, classes and ``n`` sample images of dataset ``data_id``; raises the dataset's
    DataError (one sentence) when it cannot be read. ``progress(done, total, note)`` hears
    how far the caching of a split not cached yet has come (called from this thread)."""
    dataset = preview_dataset(home, data_id, params)
    info = dataset.describe(progress)
    name, split = preview_split(dataset)
    idx = sample_indices(len(split), n)
    labels = [split.classes[int(split.labels[i])] if split.labels is not None and split.classes else ""
              for i in idx]
    sound = {}
    if split.audio is not None:
        from engine.data.sound_preview import spectrogram_images

        sounds = np.array(split.audio[idx], np.int16)  # a copy: the memory map may be rebuilt
        sound = {"spectrograms": spectrogram_images(sounds, split.sample_rate), "sounds": sounds,
                 "sample_rate": int(split.sample_rate)}
    samples = None if split.images is None else split.images[idx]
    if samples is not None and samples.ndim == 5:
        return DataSample(info, name, samples[:, samples.shape[1] // 2], labels, split.skipped, samples, **sound)
    return DataSample(info, name, samples, labels, split.skipped, **sound)
