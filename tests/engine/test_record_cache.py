"""The streamed on-disk cache of decoded splits: built once in chunks and memory-mapped after;
an interrupted build resumes after its last chunk; a damaged, foreign or stale cache is
rebuilt; a full disk is one sentence and leaves no partial file."""
from __future__ import annotations

import errno

import numpy as np
import pytest

from engine.data import cache_writer
from engine.data.chunks import Chunk, SplitSpec
from engine.data.dataset import DataError, DatasetPlugin, Split
from engine.data.record_cache import CacheFiles

N, SIDE, STEP = 10, 4, 3


def _images(lo, hi):
    """Records lo..hi-1: record i is filled with the value i."""
    return np.repeat(np.arange(lo, hi, dtype=np.uint8), SIDE * SIDE * 3).reshape(-1, SIDE, SIDE, 3)


class Streamed(DatasetPlugin):
    """N records in chunks of STEP; item 5 is 'unreadable' (skipped); records the starts asked."""

    id = "streamed_cache_test"
    starts: list = []
    fail_after = None  # raise KeyboardInterrupt after this many chunks (a killed build)

    def split_spec(self, name):
        return SplitSpec(N, (SIDE, SIDE, 3), ("even", "odd"), labeled=name != "unlabeled")

    def iter_split(self, name, start=0):
        type(self).starts.append(start)
        for n, i in enumerate(range(start, N, STEP)):
            if self.fail_after is not None and n == self.fail_after:
                raise KeyboardInterrupt
            keep = [k for k in range(i, min(i + STEP, N)) if k != 5]
            yield Chunk(_images(0, N)[keep], np.array(keep, np.int64) % 2, min(i + STEP, N) - i)


@pytest.fixture(autouse=True)
def _fresh():
    Streamed.starts, Streamed.fail_after = [], None


def _files(tmp_path):
    (header,) = (tmp_path / "datasets").glob("streamed_cache_test-*-train.json")
    return CacheFiles(header.with_suffix(""))


def test_built_once_in_chunks_then_memory_mapped(tmp_path):
    seen = []
    first = Streamed(tmp_path).split("train", progress=lambda done, total, note: seen.append((done, total)))
    again = Streamed(tmp_path).split("train")
    assert Streamed.starts == [0]  # the second instance reads the file
    for s in (first, again):
        assert isinstance(s.images, np.memmap) and not s.images.flags.writeable
        assert s.images.shape == (9, SIDE, SIDE, 3) and s.skipped == 1 and s.classes == ["even", "odd"]
        assert s.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9]
        assert s.labels.tolist() == [0, 1, 0, 1, 0, 0, 1, 0, 1]
    assert seen == [(0, N), (3, N), (6, N), (9, N), (10, N)]
    names = sorted(p.name.split("-")[-1] for p in (tmp_path / "datasets").iterdir())
    assert names == ["train.json", "train.labels", "train.lock", "train.u8"]


def test_an_interrupted_build_resumes_after_its_last_chunk(tmp_path):
    Streamed.fail_after = 2
    with pytest.raises(KeyboardInterrupt):
        Streamed(tmp_path).split("train")
    assert not list((tmp_path / "datasets").glob("*-train.json"))  # no header: not complete
    Streamed.fail_after = None
    split = Streamed(tmp_path).split("train")
    assert Streamed.starts == [0, 6]  # the first two chunks were kept
    assert split.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9] and split.skipped == 1


def test_bytes_after_the_last_journaled_chunk_are_dropped(tmp_path):
    Streamed.fail_after = 1
    with pytest.raises(KeyboardInterrupt):
        Streamed(tmp_path).split("train")
    (part,) = (tmp_path / "datasets").glob("*.u8.part")
    with open(part, "ab") as f:
        f.write(b"\xff" * 100)  # a chunk half written when the process died
    Streamed.fail_after = None
    split = Streamed(tmp_path).split("train")
    assert split.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9]


@pytest.mark.parametrize("damage", ["flip", "truncate", "header", "foreign"])
def test_a_damaged_cache_is_rebuilt_never_trusted(tmp_path, damage):
    Streamed(tmp_path).split("train")
    files = _files(tmp_path)
    if damage == "flip":
        raw = bytearray(files.records.read_bytes())
        raw[20] ^= 0xFF
        files.records.write_bytes(bytes(raw))
    elif damage == "truncate":
        files.records.write_bytes(files.records.read_bytes()[:-5])
    elif damage == "header":
        files.header.write_text("{not json")
    else:
        files.header.write_text(files.header.read_text().replace('"streamed_cache_test"', '"other"'))
    split = Streamed(tmp_path).split("train")
    assert Streamed.starts == [0, 0]
    assert split.images[:, 0, 0, 0].tolist() == [0, 1, 2, 3, 4, 6, 7, 8, 9]


def test_a_full_disk_is_one_sentence_and_leaves_no_partial_file(tmp_path, monkeypatch):
    real, calls = cache_writer._write_all, []

    def write_then_fill(f, data):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(f, data)

    monkeypatch.setattr(cache_writer, "_write_all", write_then_fill)
    with pytest.raises(DataError, match=r"^the disk holding .* filled up while caching streamed_cache_test train; "
                                        r"the partial cache was removed, free space and try again$"):
        Streamed(tmp_path).split("train")
    left = [p.name for p in (tmp_path / "datasets").iterdir() if not p.name.endswith(".lock")]
    assert left == []


def test_too_little_free_space_is_refused_before_writing(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**6, 10**6 - 100, 100))
    with pytest.raises(DataError, match=r"^caching streamed_cache_test train needs .* GB free; free space"):
        Streamed(tmp_path).split("train")
    assert Streamed.starts == []


class Whole(DatasetPlugin):
    """A plugin that builds each split at once (build_split) still goes through the cache."""

    id = "whole_cache_test"
    builds = 0

    def build_split(self, name):
        Whole.builds += 1
        return Split(np.full((4, 2, 2, 3), 7, np.uint8), np.array([0, 1, 0, 1]), ["a", "b"], skipped=1)


def test_build_split_plugins_use_the_cache_and_survive_a_damaged_one(tmp_path):
    Whole.builds = 0
    fresh = Whole(tmp_path, size=2).split("train")
    again = Whole(tmp_path, size=2).split("train")  # a new instance: from the file
    assert Whole.builds == 1
    for s in (fresh, again):
        assert s.images.shape == (4, 2, 2, 3) and s.labels.tolist() == [0, 1, 0, 1]
        assert s.classes == ["a", "b"] and s.skipped == 1
    (header,) = (tmp_path / "datasets").glob("whole_cache_test-*-train.json")
    header.with_suffix(".u8").write_bytes(b"\0" * 5)
    assert Whole(tmp_path, size=2).split("train").images.shape == (4, 2, 2, 3) and Whole.builds == 2
    assert Whole(None, size=2).split("train").skipped == 1 and Whole.builds == 3  # no cache folder: built each time


def test_without_a_cache_folder_chunks_are_gathered_in_memory():
    split = Streamed(None).split("unlabeled")
    assert split.labels is None and split.skipped == 1 and len(split) == 9


def test_a_chunk_of_the_wrong_shape_is_one_sentence(tmp_path):
    class Wrong(Streamed):
        id = "wrong_cache_test"

        def iter_split(self, name, start=0):
            yield Chunk(np.zeros((2, SIDE, SIDE + 1, 3), np.uint8), np.zeros(2, np.int64))

    with pytest.raises(DataError, match=r"gave a chunk of \(2, 4, 5, 3\) uint8 records, not \(n, 4, 4, 3\) uint8"):
        Wrong(tmp_path).split("train")
