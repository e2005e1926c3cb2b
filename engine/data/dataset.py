"""What a dataset plugin gives the engine: splits of uint8 RGB images with optional labels,
decoded once and cached as one ``.npz`` per split.

A dataset plugin subclasses ``DatasetPlugin``, declares ``id, title, summary, citation,
params`` and implements ``build_split(name) -> Split``. ``split(name)`` adds the cache.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine.data.npz_cache import load_or_build

SPLITS = ("unlabeled", "train", "test")


class DataError(ValueError):
    """Data that cannot be used (missing folder, bad file); the message is one sentence."""


@dataclass
class Split:
    """images: (N, H, W, 3) uint8 RGB; labels: (N,) int64 or None; classes: names by index."""

    images: np.ndarray
    labels: np.ndarray | None = None
    classes: list = field(default_factory=list)
    skipped: int = 0  # unreadable files skipped while decoding

    def __post_init__(self):
        if self.images.dtype != np.uint8 or self.images.ndim != 4 or self.images.shape[-1] != 3:
            raise DataError(f"a split must hold (N, H, W, 3) uint8 images, got {self.images.shape} {self.images.dtype}")
        if self.labels is not None and len(self.labels) != len(self.images):
            raise DataError("a split has a different number of labels and images")

    def __len__(self):
        return len(self.images)

    @property
    def has_labels(self) -> bool:
        return self.labels is not None


class DatasetPlugin:
    """Base for dataset plugins. Subclasses set the class attributes and ``build_split``."""

    id = ""
    title = ""
    summary = ""
    citation = ""
    params: list = []
    splits = SPLITS
    has_labels = True
    cacheable = True  # decoded splits are cached under <home>/cache/

    def __init__(self, cache_dir: Path | None = None, **params):
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.params = params
        self._loaded: dict[str, Split] = {}

    @property
    def image_size(self) -> int:
        return int(self.params.get("image_size", 32))

    def build_split(self, name: str) -> Split:
        raise NotImplementedError

    def check(self) -> None:
        """Raise DataError before any training starts if the data cannot be read."""

    def split(self, name: str) -> Split:
        if name not in self.splits:
            raise DataError(f"dataset {self.id} has no {name!r} split (it has {', '.join(self.splits)})")
        if name not in self._loaded:
            self._loaded[name] = self._cached(name)
        return self._loaded[name]

    def describe(self) -> dict:
        """Sizes, classes and image size, for forms and previews."""
        out = {"image_size": self.image_size, "splits": {}}
        for name in self.splits:
            s = self.split(name)
            out["splits"][name] = len(s)
            if s.classes:
                out["classes"] = list(s.classes)
        return out

    # --- cache ---------------------------------------------------------------------
    def _cache_path(self, name: str) -> Path | None:
        if not self.cacheable or self.cache_dir is None:
            return None
        key = json.dumps({"id": self.id, "params": self.params, "v": getattr(self, "version", 1)},
                         sort_keys=True, default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        return self.cache_dir / "datasets" / f"{self.id}-{digest}-{name}.npz"

    def _cached(self, name: str) -> Split:
        path = self._cache_path(name)
        if path is None:
            return self.build_split(name)
        return load_or_build(path, lambda: _split_arrays(self.build_split(name)), _split_of)


def _split_arrays(split: Split) -> dict[str, np.ndarray]:
    """A split as the arrays of its cache file."""
    arrays = {"images": split.images, "classes": np.array(split.classes, dtype=str),
              "skipped": np.array(split.skipped)}
    if split.labels is not None:
        arrays["labels"] = split.labels
    return arrays


def _split_of(arrays: dict[str, np.ndarray]) -> Split:
    """The split a cache file holds; raises (so the file is rebuilt) when it is not one."""
    return Split(arrays["images"], arrays.get("labels"), [str(c) for c in arrays["classes"]], int(arrays["skipped"]))


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """(N, H, W, 3) uint8 -> (N, size, size, 3) uint8 with antialiased bilinear resizing."""
    if images.shape[1] == size and images.shape[2] == size:
        return images
    from PIL import Image

    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    for i, img in enumerate(images):
        out[i] = np.asarray(Image.fromarray(img).resize((size, size), Image.BILINEAR))
    return out
