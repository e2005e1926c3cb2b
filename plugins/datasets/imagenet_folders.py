"""``imagenet_folders``: an ImageNet-style tree of class folders with its own validation set.

``root/train/<class>/**/*.jpg`` gives the labeled train split (and, without labels,
``unlabeled``); the validation images, the test split, come either sorted the same way
(``root/val/<class>/*.jpg``, which wins) or flat (``root/val/*.jpg``) with a labels CSV,
``val_labels.csv`` in ``root`` or in ``val/``, of rows ``filename,label`` (label: a class
folder name; a header row is optional). This is the layout of ILSVRC-2012 (Russakovsky et al.
2015) after the usual preparation script, and of its subsets (ImageNet-100, Imagenette).
Images are centre-cropped to (image_size, image_size, 3) uint8; unreadable files are
skipped and counted. For a folder without a separate val set, see ``folder``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from engine.api import (
    DataError,
    ImageFileDataset,
    Listing,
    Param,
    any_readable,
    class_folders,
    register_dataset,
)

LABELS_CSV = "val_labels.csv"


def read_labels_csv(path: Path, index: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """rows ``filename,label`` -> the file names and their (n,) int64 labels."""
    names, labels = [], []
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for number, row in enumerate(csv.reader(f), 1):
            row = [cell.strip() for cell in row]
            if not any(row) or (number == 1 and [c.lower() for c in row[:2]] == ["filename", "label"]):
                continue
            if len(row) < 2:
                raise DataError(f"line {number} of {path} is not 'filename,label'")
            if row[1] not in index:
                raise DataError(f"line {number} of {path} names class {row[1]!r}, which has no folder in train/")
            names.append(row[0])
            labels.append(index[row[1]])
    if not names:
        raise DataError(f"{path} has no 'filename,label' rows")
    return names, np.asarray(labels, np.int64)


@register_dataset
class ImageNetFolders(ImageFileDataset):
    id = "imagenet_folders"
    title = "ImageNet-style folders"
    summary = ("A train folder with one sub-folder per class and a separate val folder, sorted the same way "
               "or flat with a val_labels.csv (filename,label), as ImageNet and its subsets are usually "
               "prepared. Train is pre-trained on; val is the test split. Images are centre-cropped to a "
               "square; unreadable files are skipped and counted.")
    test_free_splits = ("unlabeled", "train")  # val copies stay out of both
    citation = ("Russakovsky et al., ImageNet Large Scale Visual Recognition Challenge, IJCV 2015 "
                "(layout as in torchvision's ImageFolder)")
    params = [
        Param("root", "dir", None, "the folder holding train/ (one sub-folder per class) and val/"),
        Param("image_size", "int", 64, "side of the square images in pixels (centre crop, then resize)", 8, 512),
        Param("max_per_class", "int", 0, "use the first this many train images of each class (0 = all; "
              "ImageNet's 1.28 million at 64 px fill 15.7 GB of cache)", 0, 1_000_000),
    ]

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._lists: dict[str, Listing] = {}

    def _train(self) -> Listing:
        folder = self.root_path() / "train"
        listing = class_folders(folder) if folder.is_dir() else None
        if listing is None or not listing.files:
            raise DataError(f"{folder} is missing or has no class sub-folders with images")
        cap = int(self.params.get("max_per_class") or 0)
        if cap:
            keep = np.concatenate([np.flatnonzero(listing.labels == c)[:cap] for c in range(len(listing.classes))])
            listing = Listing(folder, [listing.files[i] for i in keep], listing.labels[keep], listing.classes)
        return listing

    def _labels_csv(self) -> Path | None:
        return next((p for p in (self.root_path() / LABELS_CSV, self.root_path() / "val" / LABELS_CSV) if p.is_file()), None)

    def _val(self, classes: list) -> Listing:
        folder, index = self.root_path() / "val", {c: i for i, c in enumerate(classes)}
        if not folder.is_dir():
            raise DataError(f"{folder} is missing; imagenet_folders takes its test split from val/")
        sorted_val, table = class_folders(folder), self._labels_csv()
        if sorted_val.files:  # sorted by class: any labels CSV beside it is not needed
            unknown = sorted(set(sorted_val.classes) - set(index))
            if unknown:
                raise DataError(f"{folder} has class folders that train/ lacks ({', '.join(unknown[:5])})")
            return Listing(folder, sorted_val.files, np.asarray([index[sorted_val.classes[i]] for i in
                                                                 sorted_val.labels], np.int64), classes)
        if table is None:
            raise DataError(f"{folder} has no class sub-folders and there is no {LABELS_CSV} in {self.root_path()} or "
                            f"{folder}, so the val images have no labels")
        names, labels = read_labels_csv(table, index)
        files = [str(folder / n) for n in names]
        absent = [f for f in files if not Path(f).is_file()]
        if absent:
            raise DataError(f"{len(absent)} of the {len(files)} files that {table} lists are not in {folder} "
                            f"(the first is {Path(absent[0]).name})")
        return Listing(folder, files, labels, classes)

    def listing(self, source: str) -> Listing:
        """source: "train" or "val" -> its Listing (scanned once)."""
        if source not in self._lists:
            self._lists[source] = self._train() if source == "train" else self._val(self.listing("train").classes)
        return self._lists[source]

    def split_files(self, name):
        listing = self.listing("val" if name == "test" else "train")
        return listing.files, None if name == "unlabeled" else listing.labels, list(listing.classes)

    def check(self):
        for source in ("train", "val"):
            files = self.listing(source).files
            if not any_readable(files):
                raise DataError(f"none of the {len(files)} image files in {self.root_path() / source} could be read")
