"""Reading the IDX files of the MNIST family (LeCun et al. 1998), plain or gzipped.

An IDX file is a big-endian header, then the array's bytes in row-major order:
two zero bytes, a type byte (0x08: unsigned byte, the only type the MNIST family uses), a
byte with the number of dimensions d, then d 32-bit sizes. So image files start with the
magic number 0x00000803 (N, rows, cols) and label files with 0x00000801 (N,). Files are read
a chunk of rows at a time, never whole; a ``.gz`` copy is decompressed as it is read.
"""
from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from math import prod
from pathlib import Path

import numpy as np

from engine.api import DataError

UBYTE = 0x08
_READ_ERRORS = (OSError, EOFError, zlib.error)  # gzip.BadGzipFile is an OSError


@dataclass(frozen=True)
class IdxFile:
    """One IDX file: its path, array shape (N, ...) and whether it is gzipped."""

    path: Path
    shape: tuple[int, ...]

    @property
    def gz(self) -> bool:
        return self.path.suffix == ".gz"

    @property
    def header_bytes(self) -> int:
        return 4 + 4 * len(self.shape)

    @property
    def row_bytes(self) -> int:
        return prod(self.shape[1:])

    @property
    def data_bytes(self) -> int:
        return self.header_bytes + prod(self.shape)


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _uncompressed_size(path: Path) -> int:
    """A gzip file's last four bytes: its uncompressed size modulo 2**32 (RFC 1952)."""
    with open(path, "rb") as f:
        f.seek(-4, 2)
        return struct.unpack("<I", f.read(4))[0]


def _check_length(idx: IdxFile) -> None:
    """DataError if the file holds fewer (or more) bytes than its header announces."""
    if idx.gz:
        ok = idx.path.stat().st_size >= 18 and _uncompressed_size(idx.path) == idx.data_bytes % 2**32
    else:
        ok = idx.path.stat().st_size == idx.data_bytes
    if not ok:
        raise DataError(f"{idx.path} is truncated or damaged: its header announces {idx.shape[0]} items of "
                        f"{idx.row_bytes} bytes, which its length does not match")


def open_idx(path: Path, ndim: int) -> IdxFile:
    """The header of the IDX file ``path``, which must hold a ``ndim``-dimensional uint8 array;
    DataError naming the file if it is missing, not IDX, of another kind, or truncated."""
    if not path.is_file():
        raise DataError(f"{path} is missing")
    try:
        with _open(path) as f:
            head = f.read(4)
            magic = struct.unpack(">I", head)[0] if len(head) == 4 else None
            if magic != (UBYTE << 8 | ndim):
                found = "too short" if magic is None else f"0x{magic:08X}"
                raise DataError(f"{path} is not an IDX file of {ndim}-d unsigned bytes: its magic number is "
                                f"{found}, not 0x{UBYTE << 8 | ndim:08X}")
            dims = f.read(4 * ndim)
    except _READ_ERRORS as e:
        raise DataError(f"{path} is truncated or damaged and could not be read ({type(e).__name__})") from None
    if len(dims) != 4 * ndim:
        raise DataError(f"{path} is truncated: its header ends before the sizes of its {ndim} dimensions")
    idx = IdxFile(path, struct.unpack(f">{ndim}I", dims))
    _check_length(idx)
    return idx


def iter_rows(idx: IdxFile, start: int, step: int) -> Iterator[np.ndarray]:
    """Arrays of up to ``step`` rows, (n, *shape[1:]) uint8, from row ``start`` to the end."""
    try:
        with _open(idx.path) as f:
            f.seek(idx.header_bytes + start * idx.row_bytes)
            for i in range(start, idx.shape[0], step):
                n = min(step, idx.shape[0] - i)
                raw = f.read(n * idx.row_bytes)
                if len(raw) != n * idx.row_bytes:
                    raise EOFError
                yield np.frombuffer(raw, np.uint8).reshape(n, *idx.shape[1:])
    except _READ_ERRORS as e:
        raise DataError(f"{idx.path} is truncated or damaged and could not be read ({type(e).__name__})") from None


def read_all(idx: IdxFile) -> np.ndarray:
    """The whole array, (N, ...) uint8 (for label files: N bytes)."""
    parts = list(iter_rows(idx, 0, max(1, idx.shape[0])))
    return parts[0] if parts else np.zeros(idx.shape, np.uint8)
