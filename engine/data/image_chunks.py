"""Decoding a list of image files into bounded chunks of (size, size, 3) uint8 squares, in
threads, skipping (and reporting) the files that cannot be read.

Used by every dataset plugin that reads image files; one file is decoded by
``engine.data.image_file.decode_square``.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import numpy as np
from PIL import Image

from engine.data.chunks import chunk_length
from engine.data.image_file import decode_square

_DECODE_THREADS = min(4, os.cpu_count() or 1)  # Pillow releases the GIL while decoding


@contextmanager
def bomb_warnings_silenced():
    """Files between 1x and 2x Pillow's pixel limit warn on open; decode_square refuses them,
    so the warning is noise. Entered once around a whole pool: filters are process-wide."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def any_readable(files: list) -> bool:
    """True as soon as one file decodes (cheap when the first one does)."""
    with bomb_warnings_silenced():
        return any(decode_square(f, 8) is not None for f in files)


def decode_chunks(files: list, size: int, start: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Per chunk of ``files`` from ``start`` on: images (m, size, size, 3) uint8 of its readable
    files, their (m,) indices into ``files``, and the index after the chunk's last file.
    Decoded in threads, one chunk ahead, so the next chunk decodes while the caller writes
    this one and memory stays two chunks."""
    step = chunk_length((size, size, 3))
    with bomb_warnings_silenced(), ThreadPoolExecutor(_DECODE_THREADS) as pool:
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
