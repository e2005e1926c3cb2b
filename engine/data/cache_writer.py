"""Building a split's on-disk cache (engine.data.record_cache) from a plugin's chunks:
appended, made durable and journaled chunk by chunk, so an interrupted build resumes after
its last complete chunk and memory stays one chunk whatever the dataset's size.

``load_or_build`` is the whole protocol: open a complete cache, else take the split's lock
(two processes never build the same split at once), build or resume, then open it.
"""
from __future__ import annotations

import os
import shutil
import zlib
from contextlib import contextmanager
from typing import Callable, Iterable

import numpy as np

from engine.data.chunks import Chunk, SplitSpec
from engine.data.errors import DataError
from engine.data.record_cache import (
    DISK_FULL,
    FORMAT,
    CachedSplit,
    CacheFiles,
    Progress,
    normal_key,
    open_cached,
    read_json,
    remove_files,
    write_json,
)

try:  # POSIX; elsewhere two processes building one split at once is not guarded
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None


@contextmanager
def _locked(files: CacheFiles):
    files.lock.parent.mkdir(parents=True, exist_ok=True)
    with open(files.lock, "a+b") as f:
        if fcntl is not None:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _write_all(f, data: memoryview) -> None:
    """Write every byte of ``data`` (a short write is retried; ENOSPC raises OSError)."""
    while len(data):
        data = data[f.write(data):]


def _fresh_journal(key: dict, spec: SplitSpec) -> dict:
    return {"format": FORMAT, "key": normal_key(key), "sample_shape": list(spec.sample_shape),
            "labeled": spec.labeled, "classes": list(spec.classes), "consumed": 0, "count": 0,
            "skipped": 0, "chunks": []}


def _resume_point(files: CacheFiles, key: dict, spec: SplitSpec) -> dict:
    """The journal of an interrupted build of this very split whose part files hold at least
    what it records, else a fresh one (and the stale part files removed)."""
    j = read_json(files.journal)
    try:
        ok = (j is not None and j["key"] == normal_key(key) and j["sample_shape"] == list(spec.sample_shape)
              and j["labeled"] == spec.labeled
              and files.part(files.records).stat().st_size >= j["count"] * spec.record_bytes
              and (not spec.labeled or files.part(files.labels).stat().st_size >= j["count"] * 8))
    except (OSError, KeyError, TypeError):
        ok = False
    if ok:
        return j
    remove_files(files.partial())
    return _fresh_journal(key, spec)


def _check_space(files: CacheFiles, spec: SplitSpec, journal: dict, what: str) -> None:
    need = (spec.count - journal["consumed"]) * (spec.record_bytes + 8)
    free = shutil.disk_usage(files.stem.parent).free
    if need > free:
        raise DataError(f"caching {what} needs {need / 1e9:.1f} GB and the disk holding {files.stem.parent} "
                        f"has {free / 1e9:.1f} GB free; free space or set a smaller image size")


def _checked(chunk: Chunk, spec: SplitSpec, what: str) -> tuple[np.ndarray, np.ndarray | None]:
    x = np.ascontiguousarray(chunk.samples)
    if x.dtype != np.uint8 or tuple(x.shape[1:]) != tuple(spec.sample_shape):
        raise DataError(f"{what} gave a chunk of {x.shape} {x.dtype} records, not (n, "
                        f"{', '.join(map(str, spec.sample_shape))}) uint8")
    y = None
    if spec.labeled:
        if chunk.labels is None or len(chunk.labels) != len(x):
            raise DataError(f"{what} gave a chunk whose labels do not match its {len(x)} records")
        y = np.ascontiguousarray(chunk.labels, dtype="<i8")
    return x, y


def _append(rec, lab, x: np.ndarray, y: np.ndarray | None) -> list:
    """Append one chunk durably; -> its journal entry [records, crc of records, crc of labels]."""
    _write_all(rec, memoryview(x).cast("B"))
    rec.flush()
    os.fsync(rec.fileno())
    crc_y = 0
    if y is not None:
        _write_all(lab, memoryview(y).cast("B"))
        lab.flush()
        os.fsync(lab.fileno())
        crc_y = zlib.crc32(memoryview(y).cast("B"))
    return [len(x), zlib.crc32(memoryview(x).cast("B")), crc_y]


def _open_part(path, keep_bytes: int):
    f = open(path, "r+b" if path.exists() else "w+b")
    f.truncate(keep_bytes)  # drop what was written after the last journaled chunk
    f.seek(keep_bytes)
    return f


def build(files: CacheFiles, key: dict, spec: SplitSpec, chunks_from: Callable[[int], Iterable[Chunk]],
          progress: Progress | None = None, what: str = "the split") -> None:
    """Write the cache of one split; ``chunks_from(start)`` yields its chunks from source
    item ``start`` on. A full disk removes the partial files and raises DataError."""
    files.stem.parent.mkdir(parents=True, exist_ok=True)
    j = _resume_point(files, key, spec)
    _check_space(files, spec, j, what)
    try:
        rec = _open_part(files.part(files.records), j["count"] * spec.record_bytes)
        lab = _open_part(files.part(files.labels), j["count"] * 8) if spec.labeled else None
        try:
            if progress:
                progress(j["consumed"], spec.count, f"caching {what}")
            for chunk in chunks_from(j["consumed"]):
                x, y = _checked(chunk, spec, what)
                j["chunks"].append(_append(rec, lab, x, y))
                j["count"] += len(x)
                j["consumed"] += chunk.consumed
                j["skipped"] += chunk.skipped
                write_json(files.journal, j)
                if progress:
                    progress(min(j["consumed"], spec.count), spec.count, f"caching {what}")
        finally:
            rec.close()
            if lab is not None:
                lab.close()
        _finish(files, j, spec)
    except OSError as e:
        if e.errno not in DISK_FULL:
            raise
        remove_files(files.partial() + files.complete())
        raise DataError(f"the disk holding {files.stem.parent} filled up while caching {what}; "
                        "the partial cache was removed, free space and try again") from None


def _finish(files: CacheFiles, j: dict, spec: SplitSpec) -> None:
    """Part files to their final names, then the header: only now is the cache complete."""
    os.replace(files.part(files.records), files.records)
    if spec.labeled:
        os.replace(files.part(files.labels), files.labels)
    header = {k: j[k] for k in ("format", "key", "sample_shape", "labeled", "classes", "count", "skipped", "chunks")}
    write_json(files.header, header)
    files.journal.unlink(missing_ok=True)


def load_or_build(files: CacheFiles, key: dict, spec: Callable[[], SplitSpec],
                  chunks_from: Callable[[int], Iterable[Chunk]], progress: Progress | None = None,
                  what: str = "the split") -> CachedSplit:
    """The complete cache for ``key`` at ``files``, built (or resumed) first when needed.
    ``spec`` is called only when a build is needed."""
    cached = open_cached(files, key)
    if cached is not None:
        return cached
    with _locked(files):
        cached = open_cached(files, key)  # another process may have built it meanwhile
        if cached is None:
            build(files, key, spec(), chunks_from, progress, what)
            cached = open_cached(files, key, verify=False)  # just written and fsynced
    if cached is None:
        raise DataError(f"the cache of {what} in {files.stem.parent} could not be read back after writing it")
    return cached
