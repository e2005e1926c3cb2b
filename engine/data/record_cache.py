"""The streamed on-disk cache of one decoded split: fixed-shape uint8 records in one raw
file, memory-mapped for reading.

A split with stem ``S`` (under ``<home>/cache/datasets/``) is
    S.u8      the records back to back, (count, *sample_shape) uint8 in C order;
    S.labels  (count,) little-endian int64, when the split is labeled;
    S.json    the header: key, shape, classes, skipped, a CRC32 per chunk. Written LAST:
              its presence is what marks a build complete.
While building: ``S.u8.part``, ``S.labels.part`` and ``S.journal.json`` (what is durably on
disk: source items consumed, records, chunk checksums). An interrupted build resumes after
the journal's last chunk; bytes written after it are truncated away.

A cache is trusted only when its header parses, its key is the one asked for, its files
have exactly the header's sizes and its chunks' checksums match (every chunk up to
``VERIFY_ALL_BYTES``, else the first, the last and a sample); otherwise it is deleted and
rebuilt. A full disk removes every partial file and raises one sentence.
"""
from __future__ import annotations

import errno
import json
import os
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

FORMAT = 1
VERIFY_ALL_BYTES = 1 << 30   # verify every chunk of caches up to 1 GiB; sample larger ones
SAMPLED_CHUNKS = 8
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
Progress = Callable[[int, int, str], None]  # (done, total, note), like the CLI's CountBar


@dataclass(frozen=True)
class CacheFiles:
    """The file names of one split's cache, from its stem."""

    stem: Path

    def _named(self, suffix: str) -> Path:
        return self.stem.with_name(self.stem.name + suffix)

    @property
    def records(self) -> Path:
        return self._named(".u8")

    @property
    def labels(self) -> Path:
        return self._named(".labels")

    @property
    def header(self) -> Path:
        return self._named(".json")

    @property
    def journal(self) -> Path:
        return self._named(".journal.json")

    @property
    def lock(self) -> Path:
        return self._named(".lock")

    def part(self, path: Path) -> Path:
        return path.with_name(path.name + ".part")

    def partial(self) -> list[Path]:
        return [self.part(self.records), self.part(self.labels), self.journal]

    def complete(self) -> list[Path]:
        return [self.header, self.records, self.labels]


@dataclass(frozen=True)
class CachedSplit:
    """images: (N, *sample_shape) uint8, a read-only memory map; labels: (N,) int64 or None."""

    images: np.ndarray
    labels: np.ndarray | None
    classes: tuple[str, ...]
    skipped: int


def normal_key(key: dict) -> dict:
    """``key`` as it reads back from JSON, so a stored key compares equal to a fresh one."""
    return json.loads(json.dumps(key, sort_keys=True, default=str))


def remove_files(paths: Iterable[Path]) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
        return value if isinstance(value, dict) else None
    except (OSError, ValueError):
        return None


def write_json(path: Path, value: dict) -> None:
    """Write through a temporary file, fsync and rename: a reader sees all of it or none."""
    tmp = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(value, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


# --- reading -------------------------------------------------------------------------------
def _crc_of(f, offset: int, nbytes: int) -> int:
    f.seek(offset)
    crc, left = 0, nbytes
    while left:
        block = f.read(min(left, 8 << 20))
        if not block:
            return -1
        crc, left = zlib.crc32(block, crc), left - len(block)
    return crc


def _chunks_to_verify(n_chunks: int, total_bytes: int) -> list[int]:
    if total_bytes <= VERIFY_ALL_BYTES or n_chunks <= SAMPLED_CHUNKS:
        return list(range(n_chunks))
    sample = np.random.default_rng(total_bytes).choice(n_chunks, SAMPLED_CHUNKS - 2, replace=False)
    return sorted({0, n_chunks - 1, *sample.tolist()})


def _checksums_match(files: CacheFiles, header: dict, record_bytes: int) -> bool:
    chunks = header["chunks"]
    starts = np.concatenate([[0], np.cumsum([c[0] for c in chunks])]).astype(np.int64)
    with open(files.records, "rb") as rec:
        lab = open(files.labels, "rb") if header["labeled"] else None
        try:
            for i in _chunks_to_verify(len(chunks), int(starts[-1]) * record_bytes):
                n, crc_x, crc_y = chunks[i]
                if _crc_of(rec, int(starts[i]) * record_bytes, n * record_bytes) != crc_x:
                    return False
                if lab is not None and _crc_of(lab, int(starts[i]) * 8, n * 8) != crc_y:
                    return False
        finally:
            if lab is not None:
                lab.close()
    return True


def _valid(files: CacheFiles, header: dict, key: dict, verify: bool) -> bool:
    try:
        if header.get("format") != FORMAT or header.get("key") != normal_key(key):
            return False
        count, shape = int(header["count"]), tuple(int(s) for s in header["sample_shape"])
        record_bytes = int(np.prod(shape))
        if sum(c[0] for c in header["chunks"]) != count or files.records.stat().st_size != count * record_bytes:
            return False
        if header["labeled"] and files.labels.stat().st_size != count * 8:
            return False
        return not verify or _checksums_match(files, header, record_bytes)
    except (OSError, KeyError, TypeError, ValueError, IndexError):
        return False


def _mapped(files: CacheFiles, header: dict) -> CachedSplit:
    shape = (int(header["count"]), *(int(s) for s in header["sample_shape"]))
    if shape[0]:
        images = np.memmap(files.records, dtype=np.uint8, mode="r", shape=shape)
    else:  # a zero-byte file cannot be mapped
        images = np.empty(shape, np.uint8)
        images.flags.writeable = False
    labels = np.fromfile(files.labels, dtype="<i8").astype(np.int64) if header["labeled"] else None
    return CachedSplit(images, labels, tuple(header["classes"]), int(header["skipped"]))


def open_cached(files: CacheFiles, key: dict, verify: bool = True) -> CachedSplit | None:
    """The complete cache at ``files`` built for ``key``; None (and the files deleted)
    when there is none or it is damaged, foreign or stale."""
    header = read_json(files.header)
    if header is None or not _valid(files, header, key, verify):
        if files.header.exists() or files.records.exists():
            remove_files(files.complete())  # damaged or stale: rebuilt, never trusted
        return None
    try:
        return _mapped(files, header)
    except (OSError, ValueError):
        remove_files(files.complete())
        return None
