"""Listing the image files of a folder, labeled by sub-folder (torchvision's ImageFolder
layout, ``folder/<class>/**/image.jpg``) or not (images directly in ``folder``).

Shared by the dataset plugins that read image files (folder, ImageNet-style, Tiny-ImageNet).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.data.errors import DataError
from engine.data.image_file import EXTENSIONS


@dataclass
class Listing:
    """The image files of one folder: files[i] has labels[i] (labels None when unlabeled);
    classes: names by label index (the sub-folder names, sorted)."""

    folder: Path
    files: list
    labels: np.ndarray | None
    classes: list


def is_image(name: str) -> bool:
    """An image file name by extension; hidden files such as macOS "._photo.jpg" are not."""
    return not name.startswith(".") and name.lower().endswith(EXTENSIONS)


def image_files(folder: Path, recursive: bool) -> list[str]:
    """Sorted paths of the image files in ``folder`` (and below it when ``recursive``)."""
    if not recursive:
        return sorted(str(p) for p in folder.iterdir() if p.is_file() and is_image(p.name))
    found = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(here, n) for n in names if is_image(n))
    return sorted(found)


def class_folders(folder: Path) -> Listing:
    """``folder/<class>/**/image`` -> a labeled Listing (classes without images are left out;
    no class folder with images gives an empty Listing with labels of length 0)."""
    subdirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = [(d.name, image_files(d, recursive=True)) for d in subdirs]
    per_class = [(name, files) for name, files in per_class if files]
    files = [f for _, fs in per_class for f in fs]
    labels = np.concatenate([np.full(len(fs), i, np.int64) for i, (_, fs) in enumerate(per_class)]
                            or [np.zeros(0, np.int64)])
    return Listing(folder, files, labels, [name for name, _ in per_class])


def list_folder(folder: Path, what: str) -> Listing:
    """Labeled by sub-folder if any sub-folder holds images, else the images in ``folder``;
    DataError naming ``what`` if it is not a folder or holds no image."""
    if not folder.is_dir():
        raise DataError(f"{what} {folder} is not a folder or does not exist")
    labeled = class_folders(folder)
    if labeled.files:
        return labeled
    files = image_files(folder, recursive=False)
    if not files:
        raise DataError(f"{what} {folder} has no images ({', '.join(EXTENSIONS)}) in it or in its sub-folders")
    return Listing(folder, files, None, [])
