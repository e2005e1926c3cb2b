"""``svhn``: the Street View House Numbers, cropped digits, from the official ``.mat`` files.

SVHN (Netzer et al. 2011) format 2: ``train_32x32.mat`` (73,257 images), ``test_32x32.mat``
(26,032) and the optional ``extra_32x32.mat`` (531,131 easier samples). Each holds ``X``,
(32, 32, 3, N) uint8 RGB, and ``y``, (N, 1) with labels 1..10, where 10 is the digit 0.
Images come out as (N, image_size, image_size, 3) uint8 and labels as the digit itself.
``unlabeled`` is train (plus extra when ``extra`` is on), never a test image.

``X`` is streamed out of the file a chunk at a time (``mat_stream``), compressed or not, so
even ``extra`` (1.6 GB of pixels) is never held whole; only an ``X`` stored some other way
is loaded whole by scipy. ``extra`` is off by default: it multiplies the cache by eight.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.api import (
    DataError,
    ImageArrayDataset,
    Param,
    fingerprint,
    register_dataset,
)
from plugins.datasets.mat_file import load_variables, mat_variables
from plugins.datasets.mat_stream import find_uint8, iter_uint8

CLASSES = tuple(str(d) for d in range(10))
FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat", "extra": "extra_32x32.mat"}


def svhn_labels(y: np.ndarray, path: Path) -> np.ndarray:
    """y (N, 1) 1..10 -> (N,) int64 digits 0..9 (10 is the digit 0)."""
    labels = np.asarray(y).reshape(-1).astype(np.int64)
    if len(labels) and (labels.min() < 1 or labels.max() > 10):
        raise DataError(f"{path} has labels outside 1..10, so it is not an SVHN file")
    return labels % 10


def columns_to_images(raw: np.ndarray) -> np.ndarray:
    """(n, 3072) items of X in MATLAB's column-major order (row fastest, then column, then
    channel) -> (n, 32, 32, 3) uint8, upright."""
    return np.ascontiguousarray(raw.reshape(-1, 3, 32, 32).transpose(0, 3, 2, 1))


def _whole_file_blocks(path: Path, start: int, step: int):
    """X loaded by scipy, for a file whose X is not stored plainly as uint8 bytes."""
    x = load_variables(path, ("X",))["X"]
    if x.dtype != np.uint8 or x.ndim != 4 or x.shape[:3] != (32, 32, 3):
        raise DataError(f"{path} holds X of shape {x.shape} {x.dtype}; SVHN's X is (32, 32, 3, N) uint8")
    for i in range(start, x.shape[3], step):
        yield np.ascontiguousarray(np.moveaxis(x[..., i:i + step], 3, 0))


@register_dataset
class SVHN(ImageArrayDataset):
    id = "svhn"
    title = "SVHN"
    summary = ("Street View House Numbers: 32x32 colour crops of digits 0-9 from house-number photos, "
               "73,257 train and 26,032 test (plus 531,131 'extra' if you want them for pre-training). "
               "Point root at the official train_32x32.mat and test_32x32.mat; nothing is downloaded.")
    citation = ("Netzer, Wang, Coates, Bissacco, Wu & Ng, Reading Digits in Natural Images with "
                "Unsupervised Feature Learning, NIPS 2011 Workshop on Deep Learning")
    class_names = CLASSES
    stored_side = 32
    params = [
        Param("root", "dir", None, "the folder with train_32x32.mat and test_32x32.mat (and extra_32x32.mat)"),
        Param("image_size", "int", 32, "side of the square images in pixels (32 is the original size)", 8, 256),
        Param("extra", "bool", False, "also pre-train on extra_32x32.mat (531,131 images, 1.6 GB of cache at "
              "32 px; the unlabeled split only)"),
    ]

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._counts: dict[str, int] = {}

    def _path(self, which: str) -> Path:
        return self.root_path() / FILES[which]

    def _sources(self, name: str) -> tuple[str, ...]:
        if name == "unlabeled":
            return ("train", "extra") if self.params.get("extra") else ("train",)
        return (name,)

    @property
    def version(self) -> str:
        return fingerprint(str(self._path(w)) for w in FILES)

    def _count(self, which: str) -> int:
        """Images in one file, from its variables' shapes (nothing is loaded)."""
        if which not in self._counts:
            path = self._path(which)
            if not path.is_file():
                needs = "with extra on" if which == "extra" else "always"
                raise DataError(f"{path} is missing; svhn needs it {needs} (the official files are "
                                f"{', '.join(FILES.values())})")
            found = mat_variables(path)
            x, y = found.get("X"), found.get("y")
            if x is None or y is None:
                raise DataError(f"{path} has no {'X' if x is None else 'y'} variable, so it is not an SVHN file")
            if len(x[0]) != 4 or x[0][:3] != (32, 32, 3) or x[1] != "uint8":
                raise DataError(f"{path} holds X of shape {x[0]} {x[1]}; SVHN's X is (32, 32, 3, N) uint8")
            if np.prod(y[0]) != x[0][3]:
                raise DataError(f"{path} has {x[0][3]} images but {int(np.prod(y[0]))} labels")
            self._counts[which] = x[0][3]
        return self._counts[which]

    def check(self):
        """Every file's variables, shapes and labels (y is small; X is not loaded)."""
        for which in dict.fromkeys(w for name in self.splits for w in self._sources(name)):
            self._count(which)
            path = self._path(which)
            svhn_labels(load_variables(path, ("y",))["y"], path)

    def count(self, name):
        return sum(self._count(w) for w in self._sources(name))

    def blocks(self, name, start, step):
        """One file at a time, X streamed in blocks of (n, 32, 32, 3) uint8, with their labels."""
        offset = 0
        for which in self._sources(name):
            count = self._count(which)
            if start < offset + count:
                yield from self._file_blocks(which, max(0, start - offset), step, self.labeled(name))
            offset += count

    def _file_blocks(self, which: str, first: int, step: int, labeled: bool):
        """One file's images from item ``first`` on, and their labels if ``labeled``."""
        path = self._path(which)
        labels = svhn_labels(load_variables(path, ("y",))["y"], path) if labeled else None
        if find_uint8(path, "X") is not None:
            images = (columns_to_images(raw) for raw in iter_uint8(path, "X", first, step))
        else:
            images = _whole_file_blocks(path, first, step)
        return self.with_labels(images, labels, first)
