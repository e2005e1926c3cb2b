"""A base for datasets whose files hold arrays of small square images with integer labels.

The MNIST family (IDX files), SVHN (``.mat``), CIFAR-10/100 (pickled batches), STL-10 (raw
binaries) and scikit-learn's digits all stream a split the same way: from item ``start``
on, raw (n, side, side, 3) uint8 images come out of the files in blocks, are resized to
the ``image_size`` param and go to the cache as ``Chunk``s of
(n, image_size, image_size, 3) uint8 with (n,) int64 labels (None for ``unlabeled``).
A subclass says only how many images a split has and how to read its blocks.
"""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from engine.data.chunks import Chunk, SplitSpec, chunk_length
from engine.data.dataset import DatasetPlugin, resize_images


class ImageArrayDataset(DatasetPlugin):
    """Subclasses implement ``count(name)`` and ``blocks(name, start, step)``, and name the
    classes with ``class_names`` (or override ``classes()``); ``labeled(name)`` says which
    splits carry labels (default: all but ``unlabeled``)."""

    class_names: tuple = ()  # the classes, when they are fixed (else override ``classes``)
    stored_side = 0  # side of the stored images, so a chunk is bounded before and after resizing

    def count(self, name: str) -> int:
        """Images in split ``name``."""
        raise NotImplementedError

    def blocks(self, name: str, start: int, step: int) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
        """Split ``name`` from item ``start`` on, in blocks of at most ``step``: images
        (n, side, side, 3) uint8 as stored, labels (n,) int64 (None where ``labeled`` is false)."""
        raise NotImplementedError

    def classes(self) -> tuple:
        """The class names, in label order."""
        return tuple(self.class_names)

    def labeled(self, name: str) -> bool:
        """Whether split ``name`` carries labels."""
        return name != "unlabeled"

    def chunk_shape(self) -> tuple[int, int, int]:
        """The larger of one stored and one resized image, (side, side, 3)."""
        side = max(self.image_size, self.stored_side)
        return side, side, 3

    def chunk_step(self) -> int:
        """Images per chunk, so that a chunk is about ``chunk_length``'s budget."""
        return chunk_length(self.chunk_shape())

    @staticmethod
    def with_labels(blocks, labels: np.ndarray | None, first: int):
        """Each image block (n, side, side, 3) paired with ``labels[first:first + n]``, ``first``
        moving on by n (labels None: None)."""
        for images in blocks:
            yield images, None if labels is None else labels[first:first + len(images)]
            first += len(images)

    def split_spec(self, name):
        size = self.image_size
        return SplitSpec(self.count(name), (size, size, 3), tuple(self.classes()), labeled=self.labeled(name))

    def iter_split(self, name, start=0):
        """Chunks of (n, image_size, image_size, 3) uint8 from item ``start`` on."""
        size, labeled = self.image_size, self.labeled(name)
        for images, labels in self.blocks(name, start, self.chunk_step()):
            yield Chunk(resize_images(images, size), labels if labeled else None)
