"""``tiny_imagenet``: Tiny ImageNet (Le & Yang 2015), read from the official unpacked folder.

``root/wnids.txt`` lists the 200 WordNet ids; ``root/train/<wnid>/images/*.JPEG`` holds 500
64x64 colour images per class; ``root/val/images/*.JPEG`` holds 10,000 more, labeled by
``root/val/val_annotations.txt`` (tab-separated: file name, wnid, then a bounding box x0 y0
x1 y1, unused here); a val folder already sorted into ``val/<wnid>/`` is read as well.
``words.txt`` (wnid, tab, comma-separated names), when present, names the classes. The
official ``test/`` has no labels and is not used: train is the train split (and, without
labels, ``unlabeled``), val is the test split. Images: (N, image_size, image_size, 3) uint8.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.api import (
    DataError,
    ImageFileDataset,
    Param,
    any_readable,
    class_folders,
    image_files,
    register_dataset,
)

INNER = "tiny-imagenet-200"  # the folder inside the official zip


def read_wnids(path: Path) -> list[str]:
    """wnids.txt -> the WordNet ids, sorted (the label order, as torchvision's ImageFolder has it)."""
    if not path.is_file():
        raise DataError(f"{path} is missing; tiny_imagenet needs the official unpacked tiny-imagenet-200 folder")
    wnids = sorted({line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines()} - {""})
    if not wnids:
        raise DataError(f"{path} lists no WordNet ids")
    return wnids


def read_words(path: Path, wnids: list[str]) -> list[str]:
    """words.txt -> the first name of each wnid (the wnid itself where words.txt lacks it)."""
    names = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            wnid, _, words = line.partition("\t")
            names[wnid.strip()] = words.split(",")[0].strip()
    return [names.get(w) or w for w in wnids]


def read_val_annotations(path: Path, index: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """val_annotations.txt -> the file names and their (n,) int64 labels."""
    files, labels = [], []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DataError(f"line {number} of {path} is not 'file name<TAB>wnid<TAB>box'")
        if fields[1].strip() not in index:
            raise DataError(f"line {number} of {path} names {fields[1].strip()!r}, which wnids.txt does not list")
        files.append(fields[0].strip())
        labels.append(index[fields[1].strip()])
    return files, np.asarray(labels, np.int64)


@register_dataset
class TinyImageNet(ImageFileDataset):
    id = "tiny_imagenet"
    title = "Tiny ImageNet"
    summary = ("200 ImageNet classes at 64x64: 100,000 train images (500 per class) and 10,000 labeled "
               "val images, used as the test split. Point root at the unpacked official tiny-imagenet-200 "
               "folder (wnids.txt, train/, val/); nothing is downloaded. Unreadable images are skipped and counted.")
    test_free_splits = ("unlabeled", "train")  # val copies stay out of both
    citation = "Le & Yang, Tiny ImageNet Visual Recognition Challenge, CS231N course report, Stanford, 2015"
    params = [
        Param("root", "dir", None, "the unpacked tiny-imagenet-200 folder (with wnids.txt), or the folder holding it"),
        Param("image_size", "int", 64, "side of the square images in pixels (64 is the original size)", 8, 256),
    ]

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._lists: dict = {}  # "train", "test": (files, labels); "classes": names

    @property
    def data_dir(self) -> Path:
        root = self.root_path()
        return root / INNER if not (root / "wnids.txt").exists() and (root / INNER).is_dir() else root

    def wnids(self) -> list[str]:
        return read_wnids(self.data_dir / "wnids.txt")

    def classes(self) -> list[str]:
        if "classes" not in self._lists:
            self._lists["classes"] = read_words(self.data_dir / "words.txt", self.wnids())
        return self._lists["classes"]

    def _train(self) -> tuple[list, np.ndarray]:
        files, labels = [], []
        for label, wnid in enumerate(self.wnids()):
            folder = self.data_dir / "train" / wnid
            found = image_files(folder, recursive=True) if folder.is_dir() else []
            if not found:
                raise DataError(f"{folder} is missing or has no images; every wnid in wnids.txt needs a train folder")
            files += found
            labels += [label] * len(found)
        return files, np.asarray(labels, np.int64)

    def _val(self) -> tuple[list, np.ndarray]:
        val = self.data_dir / "val"
        index = {w: i for i, w in enumerate(self.wnids())}
        notes = val / "val_annotations.txt"
        if notes.is_file():
            names, labels = read_val_annotations(notes, index)
            files = [str(val / "images" / n) for n in names]
            absent = [f for f in files if not Path(f).is_file()]
            if absent:
                raise DataError(f"{len(absent)} of the {len(files)} files that {notes} lists are not in "
                                f"{val / 'images'} (the first is {Path(absent[0]).name})")
            return files, labels
        if val.is_dir():
            sorted_val = class_folders(val)
            if sorted_val.files and set(sorted_val.classes) <= set(index):
                return sorted_val.files, np.asarray([index[sorted_val.classes[i]] for i in sorted_val.labels], np.int64)
        raise DataError(f"{notes} is missing (and {val} is not sorted into one folder per wnid), so the val "
                        "images have no labels")

    def split_files(self, name):
        source = "test" if name == "test" else "train"
        if source not in self._lists:
            self._lists[source] = self._val() if source == "test" else self._train()
        files, labels = self._lists[source]
        return files, None if name == "unlabeled" else labels, self.classes()

    def check(self):
        for name in ("train", "test"):
            files = self.split_files(name)[0]
            if not any_readable(files):
                raise DataError(f"none of the {len(files)} {name} image files of {self.data_dir} could be read")
