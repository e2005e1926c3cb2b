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

import os
from pathlib import Path

import numpy as np

from engine.api import (
    DataError,
    ImageFileDataset,
    Listing,
    Param,
    any_readable,
    fingerprint,
    held_out_part,
    hold_out_params,
    list_folder,
    register_dataset,
)


@register_dataset
class ImageFolder(ImageFileDataset):
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
        *hold_out_params(),
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
        files, labels = held_out_part(listing.files, listing.labels, name, self.params["test_fraction"],
                                      self.params["seed"], f"{source} has too few images")
        return files, labels, list(listing.classes)
