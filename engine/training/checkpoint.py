"""Checkpoints: written atomically (temp file, fsync, rename), read with ``weights_only``
so a crafted file cannot execute code."""
from __future__ import annotations

import errno
import os
import pickle
import re
import warnings
from pathlib import Path

import torch

from engine.store.schema import StoreError


class CheckpointError(StoreError):
    """A checkpoint that cannot be loaded safely (damaged, or more than tensors); one sentence."""


def _stale(name: str, tag: str) -> bool:
    """Whether temp file ``name`` was left by an earlier owner (a smaller lease number), or
    is untagged; a newer owner's file is never ours to delete."""
    m = re.search(r"\.tmp-L(\d+)-\d+$", name)
    if m is None or not tag:
        return True
    return int(m.group(1)) < int(tag.lstrip("L"))


def save_atomic(obj: dict, path: Path, tag: str = "") -> None:
    """Write ``obj`` to ``path`` through a temp file named for this owner (``tag``, the
    worker's lease) and this process, so two writers never share a temp file."""
    def write(f):
        try:
            torch.save(obj, f)
        except RuntimeError as e:  # torch's zip writer says "enforce fail at inline_container.cc"
            if "inline_container" in str(e) or "PytorchStreamWriter" in str(e) or "unexpected pos" in str(e):
                raise OSError(errno.ENOSPC, "No space left on device", str(path)) from None
            raise

    _write_atomic(Path(path), write, tag)


def save_bytes_atomic(data: bytes, path: Path, tag: str = "") -> None:
    """Write a checkpoint file's ``data`` as it came (from a Ray task, engine/runs/ray_executor.py)
    to ``path``, atomically like ``save_atomic``."""
    _write_atomic(Path(path), lambda f: f.write(data), tag)


def _write_atomic(path: Path, write, tag: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{tag}-{os.getpid()}" if tag else f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    for stale in path.parent.glob(f".{path.name}.tmp*"):  # left by a writer killed mid-save
        if _stale(stale.name, tag):
            stale.unlink(missing_ok=True)


def _reason(e: Exception) -> str:
    """The useful part of torch's long load error, e.g. "Unsupported global: posix.system"."""
    text = str(e)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return (lines[0].split(". ")[0] if lines else type(e).__name__)[:160]


def load(path: Path, map_location="cpu") -> dict:
    """The saved dict; CheckpointError if the file is damaged or would need code to load."""
    try:
        with warnings.catch_warnings():  # a foreign pickle protocol is refused below, not warned about
            warnings.filterwarnings("ignore", message="Detected pickle protocol", category=UserWarning)
            saved = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, EOFError, RuntimeError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, ImportError) as e:
        raise CheckpointError(f"checkpoint {path} was not loaded: it is damaged or holds more than tensors "
                              f"(which could run code), so it is not trusted ({_reason(e)})") from None
    if not isinstance(saved, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(saved).__name__}, not a checkpoint dict")
    return saved

