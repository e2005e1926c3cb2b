"""Gathering records by index from a split's images: with positioned reads (``os.preadv``)
from a cache's memory-mapped file, else by indexing the array.

Reading a memory map touches its pages, which then count in the process's resident memory
for as long as the kernel keeps them; positioned reads go through the page cache without
mapping it, so a training process's RSS stays one batch however large the file is.
"""
from __future__ import annotations

import os

import numpy as np


def _maps_whole_file(images: np.memmap) -> bool:
    """A memmap as the cache opened it (not a slice of one, whose ``offset`` would be stale)."""
    try:
        size = os.path.getsize(images.filename)
    except OSError:
        return False
    return images.flags.c_contiguous and images.nbytes == size - int(images.offset)


class RecordReader:
    """Rows of ``images`` (N, *record_shape) uint8: an ``np.memmap`` of a cache file or any array."""

    def __init__(self, images: np.ndarray):
        self.shape = tuple(images.shape)
        self.record_bytes = int(np.prod(self.shape[1:]))
        self._array = images
        self._fd = None
        path = getattr(images, "filename", None)
        if isinstance(images, np.memmap) and path and hasattr(os, "preadv") and _maps_whole_file(images):
            self._fd = os.open(path, os.O_RDONLY)
            self._offset = int(images.offset)

    def __len__(self) -> int:
        return self.shape[0]

    def gather(self, idx: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Rows ``idx`` (B,) int into ``out`` (B, *record_shape) uint8, in ``idx``'s order."""
        if self._fd is None:
            np.take(self._array, idx, axis=0, out=out)
            return out
        flat = memoryview(out.reshape(len(idx), -1)).cast("B")
        rb = self.record_bytes
        for pos in np.argsort(idx, kind="stable"):  # ascending offsets: sequential where possible
            row = int(idx[pos])
            got = os.preadv(self._fd, [flat[pos * rb:(pos + 1) * rb]], self._offset + row * rb)
            if got != rb:
                raise OSError(f"short read of record {row} from the dataset cache ({got} of {rb} bytes)")
        return out

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self):
        self.close()
