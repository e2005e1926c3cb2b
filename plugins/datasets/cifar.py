"""``cifar10`` and ``cifar100``: the official CIFAR "python version" batches, read locally.

CIFAR-10 (``cifar-10-batches-py/``: ``data_batch_1..5``, ``test_batch``, ``batches.meta``)
and CIFAR-100 (``cifar-100-python/``: ``train``, ``test``, ``meta``; fine labels) hold 32x32
RGB images as pickled dicts with ``data`` (N, 3072) uint8 in channel-major order (1024 red,
1024 green, 1024 blue values, each row-major) and integer labels (Krizhevsky, 2009).
The pickles are read with an allow-list unpickler, never ``pickle.load``. ``unlabeled`` is
the train split without its labels.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

from engine.api import (
    DataError,
    ForbiddenPickle,
    ImageArrayDataset,
    Param,
    fingerprint,
    load_restricted,
    register_dataset,
)

CITATION = "Krizhevsky, Learning Multiple Layers of Features from Tiny Images, tech. report, 2009"
_PIXELS = 3 * 32 * 32


def _text(value) -> str:
    return value.decode("latin1") if isinstance(value, bytes) else str(value)


def _str_keys(obj, path: Path) -> dict:
    if not isinstance(obj, dict):
        raise DataError(f"{path} is not a CIFAR batch (it holds a {type(obj).__name__}, not a dict)")
    return {_text(k): v for k, v in obj.items()}


def read_pickle(path: Path) -> dict:
    """The dict in one CIFAR pickle, keys as str; DataError naming ``path`` if it cannot be read."""
    if not path.is_file():
        raise DataError(f"{path} is missing")
    try:
        obj = load_restricted(path)
    except ForbiddenPickle as e:
        raise DataError(f"{path} asks to run {e} while loading, which a CIFAR batch never does, "
                        "so it was not loaded") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, OverflowError, MemoryError, OSError) as e:
        raise DataError(f"{path} is truncated or damaged and could not be read ({type(e).__name__})") from None
    return _str_keys(obj, path)


def batch_arrays(d: dict, path: Path, label_key: str, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """A batch dict -> images (N, 32, 32, 3) uint8, labels (N,) int64; DataError on bad content."""
    data, labels = d.get("data"), d.get(label_key)
    if not isinstance(data, np.ndarray) or labels is None:
        raise DataError(f"{path} has no 'data' array or no {label_key!r} list, so it is not a CIFAR batch")
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != _PIXELS:
        raise DataError(f"{path} holds data of shape {data.shape} {data.dtype}; a CIFAR batch holds "
                        f"(N, {_PIXELS}) uint8")
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    if len(labels) != len(data):
        raise DataError(f"{path} has {len(data)} images but {len(labels)} labels")
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise DataError(f"{path} has labels outside 0..{num_classes - 1}")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return np.ascontiguousarray(images), labels


class CifarBase(ImageArrayDataset):
    """Shared reading; subclasses name the folder, files, label key and class-name key."""

    folder = ""           # the folder inside the official archive
    train_files: tuple = ()
    test_files: tuple = ()
    meta_file = ""
    label_key = ""
    names_key = ""
    num_classes = 0
    stored_side = 32
    params = [
        Param("root", "dir", None, "the folder with the official python batches, or the folder holding it"),
        Param("image_size", "int", 32, "side of the square images in pixels (32 is the original size)", 8, 256, unit="px"),
    ]

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._classes: list[str] | None = None
        self._counts: dict[str, int] = {}  # images per batch file, once read

    @property
    def data_dir(self) -> Path:
        """The folder with the files: ``root`` itself, or ``root/<folder>``."""
        root = self.root_path()
        inner = root / self.folder
        if not (root / self.meta_file).exists() and inner.is_dir():
            return inner
        return root

    def _files(self) -> list[Path]:
        return [self.data_dir / f for f in (*self.train_files, *self.test_files, self.meta_file)]

    @property
    def version(self) -> str:
        """Cache key part: the files' sizes and times, so replaced files are decoded again."""
        return fingerprint(str(p) for p in self._files())

    def check(self):
        for path in self._files():
            if not path.is_file():
                raise DataError(f"{path} is missing; {self.id} needs the official python batches "
                                f"({', '.join(p.name for p in self._files())})")
            if path.stat().st_size == 0:
                raise DataError(f"{path} is empty")
        if not all(self.is_cached(s) for s in self.splits):
            # read every batch now, so a damaged file stops the run before training starts
            self.classes()
            for name in (*self.train_files, *self.test_files):
                self._batch(name)

    def classes(self) -> list[str]:
        if self._classes is None:
            path = self.data_dir / self.meta_file
            names = read_pickle(path).get(self.names_key)
            if not isinstance(names, (list, tuple)) or len(names) != self.num_classes:
                raise DataError(f"{path} has no list of {self.num_classes} {self.names_key!r}")
            self._classes = [_text(n) for n in names]
        return self._classes

    def _batch(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """One batch file -> images (N, 32, 32, 3) uint8, labels (N,) int64 (at most 150 MB)."""
        path = self.data_dir / name
        images, labels = batch_arrays(read_pickle(path), path, self.label_key, self.num_classes)
        self._counts[name] = len(labels)
        return images, labels

    def _count(self, name: str) -> int:
        if name not in self._counts:
            self._batch(name)
        return self._counts[name]

    def _files_of(self, name: str) -> tuple:
        return self.test_files if name == "test" else self.train_files

    def count(self, name):
        """From the batches' label lists; the official counts are fixed, but a partial copy is
        read as it is."""
        return sum(self._count(f) for f in self._files_of(name))

    def blocks(self, name, start, step):
        """One batch file at a time, in blocks of (n, 32, 32, 3) uint8 with their labels."""
        offset = 0
        for file in self._files_of(name):
            images, labels = self._batch(file)
            for i in range(max(0, start - offset), len(images), step):
                yield images[i:i + step], labels[i:i + step]
            offset += len(images)


@register_dataset
class Cifar10(CifarBase):
    id = "cifar10"
    title = "CIFAR-10"
    summary = ("60,000 32x32 colour photos in 10 classes (airplane, automobile, bird, cat, deer, dog, frog, "
               "horse, ship, truck): 50,000 train and 10,000 test. Point root at the unpacked official "
               "'python version' (cifar-10-batches-py); nothing is downloaded.")
    citation = CITATION
    folder = "cifar-10-batches-py"
    train_files = tuple(f"data_batch_{i}" for i in range(1, 6))
    test_files = ("test_batch",)
    meta_file = "batches.meta"
    label_key = "labels"
    names_key = "label_names"
    num_classes = 10


@register_dataset
class Cifar100(CifarBase):
    id = "cifar100"
    title = "CIFAR-100"
    summary = ("60,000 32x32 colour photos in 100 fine-grained classes (500 train and 100 test images "
               "each). Point root at the unpacked official 'python version' (cifar-100-python); "
               "the fine labels are used; nothing is downloaded.")
    citation = CITATION
    folder = "cifar-100-python"
    train_files = ("train",)
    test_files = ("test",)
    meta_file = "meta"
    label_key = "fine_labels"
    names_key = "fine_label_names"
    num_classes = 100
