"""A base for datasets decoded from lists of image files (folder, ImageNet-style folders,
Tiny-ImageNet): a subclass says which files (and labels) each split has, this base decodes
them in chunks into the cache, skipping and counting unreadable files.

``unlabeled``, what methods pre-train on, never holds a test image: a subclass leaves the
test files out of it, and this base also drops any file that decodes to the same pixels as
a test image (a copy stored under another name or in another folder); a subclass may ask
the same for ``train`` (``test_free_splits``).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator

import numpy as np

from engine.data.chunks import Chunk, SplitSpec
from engine.data.dataset import DatasetPlugin
from engine.data.fingerprint import fingerprint
from engine.data.image_chunks import decode_chunks


class ImageFileDataset(DatasetPlugin):
    """Subclasses implement ``split_files(name) -> (files, labels, classes)``: the split's
    file paths, their (n,) int64 labels (None for an unlabeled split) and the class names."""

    # splits from which copies of test images are dropped; a subset whose train comes from
    # separate files (a val folder) adds "train", what label-using methods pre-train on
    test_free_splits: tuple = ("unlabeled",)

    def split_files(self, name: str) -> tuple[list, np.ndarray | None, list]:
        raise NotImplementedError

    @property
    def version(self) -> str:
        """Cache key part: names, sizes and times of every split's files."""
        if getattr(self, "_files_version", None) is None:
            seen = dict.fromkeys(f for s in self.splits for f in self.split_files(s)[0])
            self._files_version = fingerprint(seen)
        return self._files_version

    def split_spec(self, name: str) -> SplitSpec:
        files, labels, classes = self.split_files(name)
        size = self.image_size
        return SplitSpec(len(files), (size, size, 3), tuple(classes), labeled=labels is not None)

    def iter_split(self, name: str, start: int = 0) -> Iterator[Chunk]:
        """Chunks of (m, image_size, image_size, 3) uint8; unreadable files (and, in
        ``test_free_splits``, copies of test images) count as consumed but are not kept."""
        files, labels, _ = self.split_files(name)
        guarded = name in self.test_free_splits and "test" in self.splits
        test_rows = row_hashes(self.split("test").images) if guarded else set()
        for images, idx, end in decode_chunks(files, self.image_size, start):
            if test_rows:
                keep = np.array([h not in test_rows for h in row_hashes(images, as_list=True)], bool)
                images, idx = images[keep], idx[keep]
            yield Chunk(images, None if labels is None else labels[idx], end - start)
            start = end


def row_hashes(images: np.ndarray, as_list: bool = False):
    """SHA-1 of each (H, W, 3) row's bytes: a set, or a list in row order."""
    out = [hashlib.sha1(np.ascontiguousarray(row).tobytes()).digest() for row in images]
    return out if as_list else set(out)
