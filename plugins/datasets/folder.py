"""``folder``: any folder of images on this machine, labeled by sub-folder or not.

``root/<class>/**/image.jpg`` is labeled by the sub-folder name (like torchvision's
ImageFolder; loose files beside the class folders are then ignored); images sitting
directly in ``root`` (and no sub-folder with images) are unlabeled. An optional ``eval_root``, laid out by class, gives the labeled train/test
splits used by the kNN monitor and evaluations; without it a labeled root is held out
likewise. ``unlabeled``, what methods pre-train on, never holds a test image: the test
split's files are left out of it, and so is any other file that decodes to the same pixels
as a test image (a copy). Every file is decoded once to a ``image_size`` square (centre
crop) and cached; unreadable files (and such copies) are skipped and counted in
``Split.skipped``.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from PIL import Image

from engine.api import (
    EXTENSIONS,
    Chunk,
    DataError,
    DatasetPlugin,
    Param,
    SplitSpec,
    chunk_length,
    decode_square,
    fingerprint,
    register_dataset,
    stratified_split,
)

_DECODE_THREADS = min(4, os.cpu_count() or 1)  # Pillow releases the GIL while decoding


@dataclass
class Listing:
    """The image files of one folder: files[i] has labels[i] (None when unlabeled)."""

    folder: Path
    files: list
    labels: np.ndarray | None
    classes: list


def _is_image(name: str) -> bool:
    # skip hidden files such as macOS "._photo.jpg" resource forks
    return not name.startswith(".") and name.lower().endswith(EXTENSIONS)


def image_files(folder: Path, recursive: bool) -> list[str]:
    """Sorted paths of the image files in ``folder`` (and below it when ``recursive``)."""
    if not recursive:
        return sorted(str(p) for p in folder.iterdir() if p.is_file() and _is_image(p.name))
    found = []
    for here, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(os.path.join(here, n) for n in names if _is_image(n))
    return sorted(found)


def list_folder(folder: Path, what: str) -> Listing:
    """Labeled by sub-folder if any sub-folder holds images, else the images in ``folder``."""
    if not folder.is_dir():
        raise DataError(f"{what} {folder} is not a folder or does not exist")
    subdirs = sorted(d for d in folder.iterdir() if d.is_dir() and not d.name.startswith("."))
    per_class = [(d.name, image_files(d, recursive=True)) for d in subdirs]
    per_class = [(name, files) for name, files in per_class if files]
    if per_class:
        files = [f for _, fs in per_class for f in fs]
        labels = np.concatenate([np.full(len(fs), i, np.int64) for i, (_, fs) in enumerate(per_class)])
        return Listing(folder, files, labels, [name for name, _ in per_class])
    files = image_files(folder, recursive=False)
    if not files:
        raise DataError(f"{what} {folder} has no images ({', '.join(EXTENSIONS)}) in it or in its sub-folders")
    return Listing(folder, files, None, [])


@contextmanager
def _bomb_warnings_silenced():
    """Files between 1x and 2x Pillow's pixel limit warn on open; decode_square refuses them,
    so the warning is noise. Entered once around a whole pool: filters are process-wide."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def any_readable(files: list) -> bool:
    """True as soon as one file decodes (cheap when the first one does)."""
    with _bomb_warnings_silenced():
        return any(decode_square(f, 8) is not None for f in files)


def decode_chunks(files: list, size: int, start: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Per chunk of ``files`` from ``start`` on: images (m, size, size, 3) uint8 of its readable
    files, their (m,) indices into ``files``, and the index after the chunk's last file. Decoded in threads, one chunk ahead, so the
    next chunk decodes while the caller writes this one and memory stays two chunks."""
    step = chunk_length((size, size, 3))
    with _bomb_warnings_silenced(), ThreadPoolExecutor(_DECODE_THREADS) as pool:
        def submit(i):
            return (i, [pool.submit(decode_square, f, size) for f in files[i:i + step]]) if i < len(files) else None

        ahead = submit(start)
        while ahead is not None:
            i, futures = ahead
            ahead = submit(i + step)
            decoded = [f.result() for f in futures]
            keep = [k for k, img in enumerate(decoded) if img is not None]
            images = np.stack([decoded[k] for k in keep]) if keep else np.empty((0, size, size, 3), np.uint8)
            yield images, i + np.asarray(keep, np.int64), min(i + step, len(files))


@register_dataset
class ImageFolder(DatasetPlugin):
    id = "folder"
    title = "Image folder"
    summary = ("Any folder of images on this computer (jpg, png, webp, bmp, gif). One sub-folder per "
               "class gives labels; images directly in the folder are unlabeled. An optional second, "
               "labeled folder (eval_root) is split into train/test for kNN monitoring and evaluations. "
               "Images are centre-cropped to a square; unreadable files are skipped and counted.")
    citation = "Image-folder layout as in torchvision's ImageFolder (Marcel & Rodriguez, 2010)"
    params = [
        Param("root", "dir", None, "folder of images: one sub-folder per class, or images directly in it"),
        Param("eval_root", "dir", None, "optional labeled folder (one sub-folder per class) split into the "
              "train/test sets used for evaluation; by default a labeled root is split", optional=True),
        Param("image_size", "int", 64, "side of the square images in pixels (centre crop, then resize)", 8, 512, unit="px"),
        Param("test_fraction", "float", 0.2, "fraction of each class held out as the labeled test split",
              0.05, 0.9),
        Param("seed", "int", 0, "seed of the train/test split", 0, 2**31 - 1),
    ]

    def __init__(self, cache_dir=None, **params):
        super().__init__(cache_dir, **params)
        self._listings: dict[str, Listing] = {}
        self._version: str | None = None

    # --- what is in the folders ---------------------------------------------------------
    def listing(self, which: str) -> Listing:
        """which: "root" or "eval_root" -> its Listing (scanned once)."""
        if which not in self._listings:
            folder = Path(str(self.params[which])).expanduser()
            self._listings[which] = list_folder(folder, which)
        return self._listings[which]

    def _eval_source(self) -> str | None:
        if self.params.get("eval_root"):
            return "eval_root"
        return "root" if self.listing("root").labels is not None else None

    @property
    def splits(self):
        return ("unlabeled", "train", "test") if self._eval_source() else ("unlabeled",)

    @property
    def has_labels(self):
        return self._eval_source() is not None

    @property
    def version(self) -> str:
        if self._version is None:
            sources = ["root"] + (["eval_root"] if self.params.get("eval_root") else [])
            self._version = fingerprint(f for s in sources for f in self.listing(s).files)
        return self._version

    def check(self):
        root = self.listing("root")
        if self.params.get("eval_root"):
            ev = self.listing("eval_root")
            if ev.labels is None:
                raise DataError(f"eval_root {ev.folder} needs one sub-folder of images per class")
            if root.labels is not None and root.classes != ev.classes:
                only_root = sorted(set(root.classes) - set(ev.classes)) or ["none"]
                only_eval = sorted(set(ev.classes) - set(root.classes)) or ["none"]
                raise DataError(f"eval_root's classes differ from root's (only in root: {', '.join(only_root)}; "
                                f"only in eval_root: {', '.join(only_eval)})")
        for which in {"root", self._eval_source()} - {None}:
            listing = self.listing(which)
            if not any_readable(listing.files):
                raise DataError(f"none of the {len(listing.files)} image files in {which} {listing.folder} "
                                "could be read")
        if self._eval_source() and np.bincount(self.listing(self._eval_source()).labels).max() < 2:
            raise DataError(f"{self._eval_source()} needs a class with at least two images to hold out a test split")

    # --- decoding -------------------------------------------------------------------------
    def split_files(self, name: str) -> tuple[list, np.ndarray | None, list]:
        """The files split ``name`` is decoded from, their (n,) labels (None for unlabeled) and
        the class names. train/test is a stratified hold-out of the listed files."""
        if name == "unlabeled":
            root = self.listing("root")
            held_out = set(map(os.path.realpath, self.split_files("test")[0])) if self._eval_source() else set()
            files = [f for f in root.files if os.path.realpath(f) not in held_out]
            return files, None, list(root.classes)
        source = self._eval_source()
        listing = self.listing(source)
        train_idx, test_idx = stratified_split(listing.labels, self.params["test_fraction"], self.params["seed"])
        idx = test_idx if name == "test" else train_idx
        if not len(idx):
            raise DataError(f"{source} has too few images per class to hold out a {name} split")
        return [listing.files[i] for i in idx], listing.labels[idx], list(listing.classes)

    def split_spec(self, name):
        files, labels, classes = self.split_files(name)
        size = self.params["image_size"]
        return SplitSpec(len(files), (size, size, 3), tuple(classes), labeled=labels is not None)

    def iter_split(self, name, start=0):
        files, labels, _ = self.split_files(name)
        test_rows = _row_hashes(self.split("test").images) if name == "unlabeled" and self._eval_source() else set()
        for images, idx, end in decode_chunks(files, self.params["image_size"], start):
            if test_rows:  # copies of test images elsewhere in root stay out of pre-training too
                keep = np.array([h not in test_rows for h in _row_hashes(images, as_list=True)], bool)
                images, idx = images[keep], idx[keep]
            yield Chunk(images, None if labels is None else labels[idx], end - start)
            start = end


def _row_hashes(images: np.ndarray, as_list: bool = False):
    """SHA-1 of each (H, W, 3) row's bytes: a set, or a list in row order."""
    out = [hashlib.sha1(np.ascontiguousarray(row).tobytes()).digest() for row in images]
    return out if as_list else set(out)
