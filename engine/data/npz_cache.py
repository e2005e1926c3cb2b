"""A computed-once ``.npz`` file: load it when it is there and readable, else build the
arrays, write them atomically and return them. Used for the frozen evaluation features under
``<home>/cache`` (decoded dataset splits live in the streamed cache, engine.data.record_cache).

A damaged file (a crash mid-write on another system, a disk error, a foreign file) is
deleted and rebuilt, never trusted; the write goes to a temporary name in the same folder
and is renamed into place, so a reader never sees half a file.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Callable, TypeVar

import numpy as np

T = TypeVar("T")
Arrays = dict[str, np.ndarray]


def save_atomic(path: Path, arrays: Arrays) -> None:
    """Write ``arrays`` to ``path`` (``.npz``) through a temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # the process and thread in the name: two previews or two workers never share a temporary file
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}-{threading.get_ident()}.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_or_build(path: Path, build: Callable[[], Arrays], decode: Callable[[Arrays], T] = lambda a: a) -> T:
    """``decode`` of the arrays in ``path``, or of ``build()``'s, written there first.

    ``decode`` turns the arrays into what the caller keeps; it raising on a loaded file
    (a missing array, a wrong dtype) marks the file damaged like an unreadable one."""
    path = Path(path)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return decode({k: z[k] for k in z.files})
        except Exception:  # damaged: rebuilt, never trusted
            path.unlink(missing_ok=True)
    arrays = build()
    save_atomic(path, arrays)
    return decode(arrays)
