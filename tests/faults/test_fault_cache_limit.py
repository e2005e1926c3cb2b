"""Guarantee: the cache folder keeps to its size limit (issue 19): least recently used
splits and feature files are evicted, never the one being opened, one being built or one
another process holds locked; an evicted split is rebuilt on its next use; the CLI sets
the limit and refuses a size it cannot read in one sentence."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest

from engine.data.cache_limit import (
    cache_units,
    enforce_limit,
    parse_size,
    read_limit,
    write_limit,
)
from engine.data.chunks import Chunk, SplitSpec
from engine.data.dataset import DataError, DatasetPlugin
from engine.data.record_cache import CacheFiles

pytestmark = pytest.mark.faults
SIDE = 8
RECORD = SIDE * SIDE * 3


class Sized(DatasetPlugin):
    """``count`` records of one value per instance (the ``value`` param), one unlabeled split."""

    id = "sized_cache_test"
    splits = ("unlabeled",)
    built: ClassVar[list] = []

    def split_spec(self, name):
        return SplitSpec(int(self.params["count"]), (SIDE, SIDE, 3), (), labeled=False)

    def iter_split(self, name, start=0):
        type(self).built.append(self.params["value"])
        n = int(self.params["count"]) - start
        yield Chunk(np.full((n, SIDE, SIDE, 3), self.params["value"], np.uint8), None, n)


def _open(cache, value, count=10):
    return Sized(cache, value=value, count=count).split("unlabeled")


def _age(cache, seconds_ago_by_value):
    """Set each split's last use (its files' mtimes) to ``seconds ago``."""
    for u in cache_units(cache):
        value = int(np.fromfile(u.split.records, np.uint8, count=1)[0])
        t = os.stat(u.split.header).st_mtime - seconds_ago_by_value[value]
        for p in u.paths:
            os.utime(p, (t, t))


def test_least_recently_used_split_is_evicted_and_rebuilt_on_next_use(tmp_path):
    Sized.built = []
    for v in (1, 2, 3):
        _open(tmp_path, v)
    _age(tmp_path, {1: 300, 2: 100, 3: 200})
    write_limit(tmp_path, 2 * 10 * RECORD + 1000)  # two splits and their headers
    s = _open(tmp_path, 4)  # opening a fourth split brings the folder back under the limit
    assert int(s.images[0, 0, 0, 0]) == 4
    left = sorted(int(np.fromfile(u.split.records, np.uint8, count=1)[0]) for u in cache_units(tmp_path))
    assert left == [2, 4]  # 1 and 3 were used least recently; 4 is the one being opened
    assert sum(u.nbytes for u in cache_units(tmp_path)) <= read_limit(tmp_path)
    Sized.built = []
    again = _open(tmp_path, 1)
    assert Sized.built == [1] and int(again.images[-1, 0, 0, 0]) == 1  # rebuilt, same content


def test_a_split_being_built_or_locked_by_another_process_is_not_evicted(tmp_path):
    for v in (1, 2):
        _open(tmp_path, v)
    first, second = cache_units(tmp_path)
    first.split.journal.write_text("{}")  # a build of it is under way
    with open(second.split.lock, "a+b") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)  # another open file description holds its lock
        assert enforce_limit(tmp_path, max_bytes=1) == []
    assert len(cache_units(tmp_path)) == 2
    first.split.journal.unlink()
    assert len(enforce_limit(tmp_path, max_bytes=1)) == 2 and cache_units(tmp_path) == []
    assert second.split.lock.exists()  # lock files stay (removing one in use lets two builders in)


def test_feature_files_are_evicted_by_last_use_too(tmp_path):
    features = tmp_path / "features"
    features.mkdir()
    for i, age in enumerate((50, 10, 30)):
        p = features / f"run{i}-key-train.npz"
        p.write_bytes(b"x" * 1000)
        os.utime(p, (p.stat().st_mtime - age,) * 2)
    (features / ".run9-key-train.tmp1-2.npz").write_bytes(b"x" * 5000)  # a write in progress
    evicted = enforce_limit(tmp_path, max_bytes=1500)
    assert [u.name for u in evicted] == ["run0-key-train.npz", "run2-key-train.npz"]
    assert (features / ".run9-key-train.tmp1-2.npz").exists()


def test_without_a_limit_nothing_is_evicted(tmp_path):
    for v in (1, 2):
        _open(tmp_path, v)
    assert read_limit(tmp_path) is None and enforce_limit(tmp_path) == []
    assert len(cache_units(tmp_path)) == 2


@pytest.mark.parametrize("text, expected", [("20G", 20 << 30), ("512 MB", 512 << 20), ("1.5k", 1536),
                                            ("none", None), ("100", 100)])
def test_sizes_read_as_binary_units(text, expected):
    assert parse_size(text) == expected


def test_cli_sets_the_limit_evicts_and_refuses_a_bad_size_in_one_sentence(tmp_path):
    cache = tmp_path / "cache"
    for v in (1, 2):
        _open(cache, v)
    run = lambda *a: subprocess.run([sys.executable, "main.py", "cache", "--home", str(tmp_path), *a],
                                    check=False, capture_output=True, text=True, timeout=120)
    bad = run("--limit", "lots")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr
    ok = run("--limit", f"{10 * RECORD + 300}")
    assert ok.returncode == 0 and ok.stdout.count("evicted dataset") == 1, ok.stdout
    assert read_limit(cache) == 10 * RECORD + 300 and len(cache_units(cache)) == 1
    assert run("--limit", "none").returncode == 0 and read_limit(cache) is None
    with pytest.raises(DataError):
        parse_size("twelve")
    assert isinstance(CacheFiles(cache / "x").lock, type(cache))
