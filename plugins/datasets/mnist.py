"""``mnist``, ``fashion_mnist``, ``kmnist``: the MNIST family's IDX files, read locally.

Each has 60,000 train and 10,000 test 28x28 grey images in 10 classes, as four IDX files
(plain or ``.gz``): ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``. They are found in ``root`` itself or
in torchvision's layout ``root/<Name>/raw/`` (Name: MNIST, FashionMNIST, KMNIST). Images
are replicated to RGB and resized to ``image_size``: (N, image_size, image_size, 3) uint8.
``unlabeled`` is the train images without labels (never a t10k image).
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
from plugins.datasets.idx_format import IdxFile, iter_rows, open_idx, read_all

FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
_SOURCE = {"unlabeled": "train", "train": "train", "test": "test"}


class IdxDataset(ImageArrayDataset):
    """Shared reading; subclasses name torchvision's folder and the ten classes."""

    folder = ""       # torchvision's folder name under root
    stored_side = 28
    params = [
        Param("root", "dir", None, "the folder with the four IDX files (.gz or not), or the folder holding "
              "torchvision's <Name>/raw/ layout"),
        Param("image_size", "int", 32, "side of the square images in pixels (28 is the original size)", 8, 256),
    ]

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._headers: dict[str, IdxFile] = {}

    # --- where the files are -----------------------------------------------------------
    def _candidates(self) -> list[Path]:
        root = self.root_path()
        return [root, root / "raw", root / self.folder / "raw", root / self.folder]

    @property
    def data_dir(self) -> Path:
        """The first candidate folder holding train-images (plain or .gz); else ``root``."""
        first = FILES["train"][0]
        for folder in self._candidates():
            if (folder / first).is_file() or (folder / f"{first}.gz").is_file():
                return folder
        return self.root_path()

    def _path(self, stem: str) -> Path:
        plain = self.data_dir / stem
        gz = plain.with_name(f"{stem}.gz")
        if plain.is_file() or not gz.is_file():
            return plain
        return gz

    def _missing(self, stem: str) -> DataError:
        return DataError(f"{stem} (or {stem}.gz) is missing from {self.data_dir}; {self.id} needs the four IDX "
                         f"files in root or in root/{self.folder}/raw")

    # --- headers, checked once -------------------------------------------------------------
    def _header(self, stem: str, ndim: int) -> IdxFile:
        if stem not in self._headers:
            path = self._path(stem)
            if not path.is_file():
                raise self._missing(stem)
            self._headers[stem] = open_idx(path, ndim)
        return self._headers[stem]

    def _pair(self, source: str) -> tuple[IdxFile, IdxFile]:
        """The image and label headers of ``source`` (train or test), counts checked."""
        x_stem, y_stem = FILES[source]
        images, labels = self._header(x_stem, 3), self._header(y_stem, 1)
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{images.path.name} has {images.shape[0]} images but {labels.path.name} has "
                            f"{labels.shape[0]} labels")
        return images, labels

    def _labels(self, source: str) -> np.ndarray:
        idx = self._pair(source)[1]
        labels = read_all(idx).astype(np.int64)
        if len(labels) and labels.max() >= len(self.class_names):
            raise DataError(f"{idx.path} has labels above {len(self.class_names) - 1}, so it is not a "
                            f"label file of {self.title}")
        return labels

    @property
    def version(self) -> str:
        return fingerprint(str(self._path(s)) for pair in FILES.values() for s in pair)

    def check(self):
        for source in FILES:
            self._labels(source)

    # --- splits --------------------------------------------------------------------------
    def count(self, name):
        return self._pair(_SOURCE[name])[0].shape[0]

    def blocks(self, name, start, step):
        """(n, 28, 28, 3) uint8 blocks, grey replicated to RGB, with their labels."""
        source = _SOURCE[name]
        labels = self._labels(source) if self.labeled(name) else None
        rgb = (np.repeat(grey[..., None], 3, axis=-1) for grey in iter_rows(self._pair(source)[0], start, step))
        return self.with_labels(rgb, labels, start)


@register_dataset
class Mnist(IdxDataset):
    id = "mnist"
    title = "MNIST"
    summary = ("70,000 28x28 grey handwritten digits 0-9: 60,000 train and 10,000 test. Point root at the "
               "four IDX files (.gz or not) or at torchvision's download folder (MNIST/raw); nothing is "
               "downloaded. Images are shown as RGB at image_size.")
    citation = ("LeCun, Bottou, Bengio & Haffner, Gradient-Based Learning Applied to Document Recognition, "
                "Proc. IEEE 1998")
    folder = "MNIST"
    class_names = tuple(str(d) for d in range(10))


@register_dataset
class FashionMnist(IdxDataset):
    id = "fashion_mnist"
    title = "Fashion-MNIST"
    summary = ("70,000 28x28 grey photos of clothing in 10 classes (T-shirt/top, trouser, pullover, dress, "
               "coat, sandal, shirt, sneaker, bag, ankle boot), MNIST's format and split. Point root at the "
               "four IDX files or at torchvision's FashionMNIST/raw; nothing is downloaded.")
    citation = ("Xiao, Rasul & Vollgraf, Fashion-MNIST: a Novel Image Dataset for Benchmarking Machine "
                "Learning Algorithms, arXiv:1708.07747, 2017")
    folder = "FashionMNIST"
    class_names = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                   "Ankle boot")


@register_dataset
class Kmnist(IdxDataset):
    id = "kmnist"
    title = "Kuzushiji-MNIST"
    summary = ("70,000 28x28 grey cursive Japanese (Kuzushiji) characters, one per row of hiragana, 10 "
               "classes, MNIST's format and split. Point root at the four IDX files or at torchvision's "
               "KMNIST/raw; nothing is downloaded.")
    citation = ("Clanuwat, Bober-Irizar, Kitamoto, Lamb, Yamamoto & Ha, Deep Learning for Classical Japanese "
                "Literature, NeurIPS 2018 Workshop on Machine Learning for Creativity and Design")
    folder = "KMNIST"
    class_names = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
