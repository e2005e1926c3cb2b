"""``stl10``: the official STL-10 binaries, read locally with memory maps.

STL-10 (Coates, Ng & Lee, 2011) has 96x96 colour images: 5,000 labeled train, 8,000
labeled test and 100,000 unlabeled, 10 classes. Each ``*_X.bin`` is raw uint8, one image
after another, each stored channel by channel and, within a channel, column by column
(MATLAB order). Read as (N, 3, 96, 96) that is (N, channel, column, row), so the
transpose to (N, row, column, channel) is ``(0, 3, 2, 1)``. ``*_y.bin`` holds one uint8
label per image, 1..10.
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

SIDE = 96
IMAGE_BYTES = 3 * SIDE * SIDE  # 27648
# the official class_names.txt, used when that small file was not copied along
OFFICIAL_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]
FILES = {"unlabeled": ("unlabeled_X.bin", None), "train": ("train_X.bin", "train_y.bin"),
         "test": ("test_X.bin", "test_y.bin")}


def stl_to_hwc(raw: np.ndarray) -> np.ndarray:
    """raw: (N, 27648) or flat uint8 in the official order -> (N, 96, 96, 3) uint8, upright."""
    return np.ascontiguousarray(raw.reshape(-1, 3, SIDE, SIDE).transpose(0, 3, 2, 1))


def image_count(path: Path) -> int:
    """Images in an ``*_X.bin``; DataError naming the file if missing or truncated."""
    if not path.is_file():
        raise DataError(f"{path} is missing")
    size = path.stat().st_size
    if size == 0 or size % IMAGE_BYTES:
        raise DataError(f"{path} is truncated or not an STL-10 image file: its {size} bytes are not "
                        f"a whole number of {IMAGE_BYTES}-byte images")
    return size // IMAGE_BYTES


def read_labels(path: Path, count: int) -> np.ndarray:
    """``*_y.bin`` -> (count,) int64 in 0..9; DataError naming the file if it does not fit."""
    if not path.is_file():
        raise DataError(f"{path} is missing")
    raw = np.fromfile(path, dtype=np.uint8)
    if len(raw) != count:
        raise DataError(f"{path} has {len(raw)} labels but its image file has {count} images")
    if len(raw) and (raw.min() < 1 or raw.max() > 10):
        raise DataError(f"{path} has labels outside 1..10, so it is not an STL-10 label file")
    return raw.astype(np.int64) - 1


@register_dataset
class STL10(ImageArrayDataset):
    id = "stl10"
    title = "STL-10"
    summary = ("96x96 colour photos in 10 classes, made for unsupervised learning: 100,000 unlabeled, "
               "5,000 labeled train and 8,000 labeled test images. Point root at the unpacked official "
               "binaries (stl10_binary); nothing is downloaded. Images are resized to image_size.")
    citation = ("Coates, Ng & Lee, An Analysis of Single-Layer Networks in Unsupervised Feature "
                "Learning, AISTATS 2011")
    stored_side = SIDE
    params = [
        Param("root", "dir", None, "the stl10_binary folder with the official .bin files, or the folder holding it"),
        Param("image_size", "int", 64, "side of the square images in pixels (96 is the original size)", 8, 256, unit="px"),
        Param("max_unlabeled", "int", 20000,
              "use the first this many of the 100,000 unlabeled images (0 = all; 100k at 96 px is 2.8 GB)",
              0, 100000),
    ]

    @property
    def data_dir(self) -> Path:
        root = self.root_path()
        inner = root / "stl10_binary"
        if not (root / "train_X.bin").exists() and inner.is_dir():
            return inner
        return root

    def _paths(self) -> list[Path]:
        names = [n for pair in FILES.values() for n in pair if n] + ["class_names.txt"]
        return [self.data_dir / n for n in names]

    @property
    def version(self) -> str:
        return fingerprint(str(p) for p in self._paths())

    def check(self):
        for x_name, y_name in FILES.values():
            count = image_count(self.data_dir / x_name)
            if y_name:
                read_labels(self.data_dir / y_name, count)
        self.classes()

    def classes(self) -> list[str]:
        path = self.data_dir / "class_names.txt"
        if not path.is_file():
            return list(OFFICIAL_CLASSES)
        names = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
        names = [n for n in names if n]
        if len(names) != 10:
            raise DataError(f"{path} lists {len(names)} class names instead of 10")
        return names

    def count(self, name):
        x_name, y_name = FILES[name]
        count = image_count(self.data_dir / x_name)
        if not y_name and self.params["max_unlabeled"]:
            count = min(count, self.params["max_unlabeled"])
        return count

    def labeled(self, name):
        """The unlabeled file has no label file."""
        return FILES[name][1] is not None

    def blocks(self, name, start, step):
        """Blocks of (n, 96, 96, 3) uint8 read through a memmap of the file (never read whole),
        with their labels."""
        x_name, y_name = FILES[name]
        x_path, count = self.data_dir / x_name, self.count(name)
        labels = read_labels(self.data_dir / y_name, image_count(x_path)) if y_name else None
        raw = np.memmap(x_path, dtype=np.uint8, mode="r", shape=(image_count(x_path), IMAGE_BYTES))
        images = (stl_to_hwc(np.asarray(raw[i:min(i + step, count)])) for i in range(start, count, step))
        return self.with_labels(images, labels, start)
