"""Builds a dataset for the previews, off the Qt main thread (shapes takes seconds to
generate; the decoded splits land in ``<home>/cache`` so the worker reuses them).

The last dataset built is kept, so the data and augmentation previews share one."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np

_lock = threading.Lock()
_last: dict = {}


def load_dataset(home: Path, data_id: str, params: dict):
    from engine import registry

    key = json.dumps([data_id, params], sort_keys=True, default=str)
    with _lock:  # two previews asking at once build it once
        if _last.get("key") != key:
            _last.clear()
            dataset = registry.create_dataset(data_id, params, Path(home) / "cache")
            dataset.check()
            _last.update(key=key, dataset=dataset)
        return _last["dataset"]


def preview_split(dataset):
    """The labeled train split when there is one, else the first split."""
    name = "train" if "train" in dataset.splits else dataset.splits[0]
    return name, dataset.split(name)


def sample_indices(n_images: int, count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_images, size=min(count, n_images), replace=False))


def describe_for_preview(home: Path, data_id: str, params: dict, count: int = 24) -> dict:
    """Sizes, classes and ``count`` sample images with their label names."""
    dataset = load_dataset(home, data_id, params)
    info = dataset.describe()
    name, split = preview_split(dataset)
    idx = sample_indices(len(split), count)
    labels = [split.classes[int(split.labels[i])] if split.labels is not None and split.classes else ""
              for i in idx]
    return {"info": info, "split": name, "images": split.images[idx], "labels": labels,
            "skipped": split.skipped}
