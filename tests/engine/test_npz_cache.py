"""The computed-once ``.npz`` cache behind frozen evaluation features: built once,
loaded after; a damaged or foreign file is rebuilt; no temporary file is left behind."""
from __future__ import annotations

import numpy as np
import pytest

from engine.data.npz_cache import load_or_build


class Counting:
    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return {"features": np.arange(6, dtype=np.float32).reshape(3, 2)}


def test_built_once_then_loaded(tmp_path):
    build, path = Counting(), tmp_path / "sub" / "f.npz"
    first = load_or_build(path, build)
    second = load_or_build(path, build)
    assert build.calls == 1 and (second["features"] == first["features"]).all()
    assert sorted(p.name for p in path.parent.iterdir()) == ["f.npz"]  # no temporary file left


@pytest.mark.parametrize("damage", [b"", b"PK\x03\x04 half a zip", b"\x93NUMPY not an archive"])
def test_a_damaged_file_is_rebuilt(tmp_path, damage):
    build, path = Counting(), tmp_path / "f.npz"
    path.write_bytes(damage)
    assert load_or_build(path, build)["features"].shape == (3, 2) and build.calls == 1
    assert load_or_build(path, build)["features"].shape == (3, 2) and build.calls == 1  # the rebuilt file is good


def test_a_file_decode_refuses_is_rebuilt(tmp_path):
    build, path = Counting(), tmp_path / "f.npz"
    np.savez(path, other=np.zeros(2))
    assert load_or_build(path, build, lambda a: a["features"].sum()) == 15.0 and build.calls == 1
