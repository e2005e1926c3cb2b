"""Files the CLI writes for the user (exports, tables): whole or not at all.

The text goes to a temp file beside the target, is fsynced and renamed over it; on any
failure the temp file is removed, so a full disk never leaves a partial export behind.
Failures are one sentence (StoreError): a directory given as the file, a full disk."""
from __future__ import annotations

import errno
import os
from contextlib import contextmanager
from pathlib import Path

from engine.store.schema import StoreError


def disk_full(path: Path | str) -> StoreError:
    return StoreError(f"the disk is full (writing {path}); free space and try again")


@contextmanager
def open_atomic(path: Path | str, newline: str | None = None):
    """``with open_atomic(path) as f: f.write(...)``: ``path`` is replaced only when the block ends."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path} is a directory; give the name of a file to write")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StoreError(f"{path} cannot be written: {path.parent} is not a directory") from None
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8", newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            raise disk_full(path) from None
        raise StoreError(f"{path} cannot be written: {e.strerror or e}") from None
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path | str, text: str) -> None:
    with open_atomic(path) as f:
        f.write(text)
