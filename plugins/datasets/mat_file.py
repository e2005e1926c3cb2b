"""Reading MATLAB v5 ``.mat`` files (as SVHN ships them) with scipy.io, every failure one
DataError sentence naming the file.

A v5 file is a 128-byte header (text, then an endian mark ``IM`` or ``MI`` in bytes 126-127)
followed by top-level data elements, each an 8-byte tag (type, byte count) and its bytes,
compressed (zlib) or not. Walking the tags tells a truncated file from a complete one
without decompressing anything. MATLAB v7.3 files are HDF5 and are not read here.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.api import DataError

_HEADER = 128
COMPRESSED = 15  # miCOMPRESSED: not padded to 8 bytes, unlike every other element


def _scipy_io():
    """-> (scipy.io, the exception types its readers raise on damaged files)."""
    try:
        import scipy.io
        from scipy.io.matlab import MatReadError
    except ImportError:
        raise DataError("reading .mat files needs scipy, which is not installed") from None
    return scipy.io, (MatReadError, ValueError, TypeError, LookupError, OSError, EOFError, MemoryError,
                      NotImplementedError, zlib.error, struct.error)


@dataclass(frozen=True)
class Element:
    """One top-level data element: where its tag starts, its type and byte count."""

    offset: int
    kind: int
    nbytes: int

    @property
    def compressed(self) -> bool:
        return self.kind == COMPRESSED


def byte_order(path: Path) -> str:
    """"<" or ">" from the v5 header's endian mark; DataError if there is no v5 header."""
    with open(path, "rb") as f:
        head = f.read(_HEADER)
    if len(head) < _HEADER or head[126:128] not in (b"IM", b"MI"):
        raise DataError(f"{path} is not a MATLAB v5 .mat file (no v5 header)")
    return "<" if head[126:128] == b"IM" else ">"


def elements(path: Path) -> list[Element]:
    """The top-level elements of ``path``; DataError if not v5 or the last runs past its end."""
    order, size, found = byte_order(path), path.stat().st_size, []
    with open(path, "rb") as f:
        pos = _HEADER
        while pos + 8 <= size:
            f.seek(pos)
            kind, nbytes = struct.unpack(f"{order}II", f.read(8))
            found.append(Element(pos, kind, nbytes))
            pos += 8 + nbytes
            if pos > size:
                raise DataError(f"{path} is truncated or damaged: its last variable runs past the end of the file")
            pos += 0 if kind == COMPRESSED else -nbytes % 8
    return found


def mat_variables(path: Path) -> dict[str, tuple[tuple[int, ...], str]]:
    """name -> (shape, MATLAB class) of each variable in ``path``, without loading them."""
    if not path.is_file():
        raise DataError(f"{path} is missing")
    elements(path)
    sio, errors = _scipy_io()
    try:
        return {name: (tuple(shape), cls) for name, shape, cls in sio.whosmat(str(path))}
    except errors as e:
        raise DataError(f"{path} is truncated or damaged and could not be read ({type(e).__name__})") from None


def load_variables(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """The arrays ``names`` of ``path``, loaded whole (scipy reads a variable at once)."""
    sio, errors = _scipy_io()
    try:
        loaded = sio.loadmat(str(path), variable_names=list(names))
    except errors as e:
        raise DataError(f"{path} is truncated or damaged and could not be read ({type(e).__name__})") from None
    missing = [n for n in names if n not in loaded]
    if missing:
        raise DataError(f"{path} has no variable {missing[0]!r}")
    return {n: loaded[n] for n in names}
