"""Streaming one uint8 array out of a MATLAB v5 ``.mat`` file, a bounded block at a time,
so that SVHN's 1.6 GB ``extra_32x32.mat`` is never held whole (scipy's loadmat would).

A top-level element is an ``miMATRIX`` (type 14), or an ``miCOMPRESSED`` (type 15) whose
zlib stream holds one. An ``miMATRIX`` holds, each as a tagged sub-element padded to 8
bytes: array flags (the class in the low byte; 9 is uint8), dimensions (int32), the name,
then the real part: for a uint8 array, ``miUINT8`` (type 2) bytes in column-major order.
Arrays stored any other way give ``None`` from ``find_uint8`` and are left to scipy.
"""
from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from math import prod
from pathlib import Path

import numpy as np

from engine.api import DataError
from plugins.datasets.mat_file import Element, byte_order, elements

MATRIX, UINT8_DATA, UINT8_CLASS = 14, 2, 9
_BLOCK = 1 << 20  # compressed bytes read at a time


class _Inflater:
    """``read(n)`` over a zlib stream of ``nbytes`` compressed bytes starting at ``f``'s position."""

    def __init__(self, f, nbytes: int):
        self.f, self.left, self.z = f, nbytes, zlib.decompressobj()

    def read(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            if self.z.unconsumed_tail:
                raw = self.z.unconsumed_tail
            elif self.left > 0:
                raw = self.f.read(min(_BLOCK, self.left))
                self.left -= len(raw)
                if not raw:
                    break
            else:
                break
            out += self.z.decompress(raw, n - len(out))  # max_length bounds memory however well it compressed
        return bytes(out)


class _Tags:
    """Reads tagged sub-elements: ``(type, data)``, skipping padding."""

    def __init__(self, stream, order: str):
        self.stream, self.order = stream, order

    def exact(self, n: int) -> bytes:
        data = self.stream.read(n)
        if len(data) != n:
            raise EOFError
        return data

    def tag(self) -> tuple[int, int, bytes | None]:
        """-> (type, byte count, data if the element is in the 4-byte "small" form)."""
        first, second = struct.unpack(f"{self.order}II", self.exact(8))
        if first >> 16:
            return first & 0xFFFF, first >> 16, struct.pack(f"{self.order}I", second)[: first >> 16]
        return first, second, None

    def element(self) -> tuple[int, bytes]:
        kind, nbytes, small = self.tag()
        if small is not None:
            return kind, small
        data = self.exact(nbytes)
        self.exact(-nbytes % 8)
        return kind, data


@contextmanager
def _matrix(path: Path, element: Element, order: str):
    """A _Tags reader just inside the miMATRIX of ``element``, or None if it is something else."""
    with open(path, "rb") as f:
        f.seek(element.offset + 8 if element.compressed else element.offset)
        tags = _Tags(_Inflater(f, element.nbytes) if element.compressed else f, order)
        kind, _, _ = tags.tag()
        yield tags if kind == MATRIX else None


def _header(tags: _Tags) -> tuple[str, int, tuple[int, ...]]:
    """-> (name, class, dims) of the miMATRIX ``tags`` is inside."""
    _, flags = tags.element()
    _, dims = tags.element()
    _, name = tags.element()
    shape = struct.unpack(f"{tags.order}{len(dims) // 4}i", dims)
    return name.decode("latin1"), struct.unpack(f"{tags.order}I", flags[:4])[0] & 0xFF, shape


def _seek_data(path: Path, name: str):
    """-> (element, order, dims) of the uint8 array ``name`` in the simple form, or None."""
    order = byte_order(path)
    for element in elements(path):
        if element.kind != MATRIX and not element.compressed:
            continue
        with _matrix(path, element, order) as tags:
            if tags is None:
                continue
            var, cls, dims = _header(tags)
            if var != name:
                continue
            kind, nbytes, _ = tags.tag()
            ok = cls == UINT8_CLASS and kind == UINT8_DATA and nbytes == prod(dims)
            return (element, order, dims) if ok else None
    return None


def find_uint8(path: Path, name: str) -> tuple[int, ...] | None:
    """The dimensions of uint8 array ``name`` if it can be streamed, else None."""
    try:
        found = _seek_data(path, name)
    except (EOFError, zlib.error, struct.error, OSError, UnicodeDecodeError):
        return None
    return None if found is None else found[2]


def iter_uint8(path: Path, name: str, start: int, step: int) -> Iterator[np.ndarray]:
    """Blocks of up to ``step`` items of uint8 array ``name`` (items along its last axis:
    each is ``prod(dims[:-1])`` column-major bytes), from item ``start`` on, as (n, item bytes)."""
    element, order, dims = _seek_data(path, name)
    item, count = prod(dims[:-1]), dims[-1]
    try:
        with _matrix(path, element, order) as tags:
            _header(tags)
            tags.tag()
            for i in range(0, start, step):  # items before start are read and dropped, a block at a time
                tags.exact(min(step, start - i) * item)
            for i in range(start, count, step):
                n = min(step, count - i)
                yield np.frombuffer(tags.exact(n * item), np.uint8).reshape(n, item)
    except (EOFError, zlib.error, struct.error, OSError) as e:
        raise DataError(f"{path} is truncated or damaged and could not be read ({type(e).__name__})") from None
