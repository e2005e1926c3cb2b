"""Unpickling that can rebuild plain data and numpy arrays and nothing else.

The CIFAR python batches are pickles, and ``pickle.load`` on a file from the internet runs
whatever callable the file names (``os.system`` included). ``load_restricted`` resolves
only the few globals that dicts of bytes, lists and numpy arrays need; any other global
makes it raise ``ForbiddenPickle`` before anything is called.
"""
from __future__ import annotations

import _codecs
import copyreg
import pickle

import numpy as np


class ForbiddenPickle(pickle.UnpicklingError):
    """The pickle names a global outside the allow-list (``module.name`` in the message)."""


def _numpy_core():
    core = getattr(np, "_core", None)  # numpy >= 2 moved numpy.core to numpy._core
    return core if core is not None else np.core


def _allowed() -> dict:
    core = _numpy_core()
    reconstruct = core.multiarray._reconstruct
    frombuffer = core.numeric._frombuffer
    return {
        # ndarray.__reduce__ (protocols 0-4), as written by numpy 1.x and 2.x
        ("numpy.core.multiarray", "_reconstruct"): reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): reconstruct,
        # ndarray.__reduce_ex__ at protocol 5: np.frombuffer on an in-band buffer
        ("numpy.core.numeric", "_frombuffer"): frombuffer,
        ("numpy._core.numeric", "_frombuffer"): frombuffer,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("copyreg", "_reconstructor"): copyreg._reconstructor,
        # Python 3 writes bytes as _codecs.encode(str, "latin1") at protocols 0-2
        ("_codecs", "encode"): _codecs.encode,
    }


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` whose ``find_class`` only returns allow-listed globals."""

    def find_class(self, module, name):
        obj = _allowed().get((module, name))
        if obj is None:
            raise ForbiddenPickle(f"{module}.{name}")
        return obj


def load_restricted(path) -> object:
    """Unpickle ``path`` (latin1 for Python 2 strings, as numpy advises) with the allow-list.

    Raises ForbiddenPickle for a disallowed global and the usual pickle/EOF/OS errors for
    a damaged file; the caller turns them into one sentence for the person."""
    with open(path, "rb") as f:
        return RestrictedUnpickler(f, encoding="latin1").load()
