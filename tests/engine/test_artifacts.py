"""Reading the protocols' artifacts: a missing, damaged or inconsistent file is an
ArtifactError with one sentence, and points past the data are refused, not an IndexError."""
from __future__ import annotations

import numpy as np
import pytest

from engine.evaluation.artifacts import (
    ArtifactError,
    EmbeddingPoints,
    RetrievalHits,
    map_with_images,
    read_embedding,
    read_retrieval,
)


def row(path, protocol="embedding", **extra):
    return {"id": 5, "protocol": protocol, "results": {"path": str(path)}, **extra}


def points(n=4):
    return EmbeddingPoints(np.zeros((n, 2), np.float32), np.arange(n) % 2, np.arange(n))


def test_what_is_written_is_read_back(tmp_path):
    np.savez(tmp_path / "m.npz", **points().arrays())
    back = read_embedding(row(tmp_path / "m.npz"))
    assert back.xy.shape == (4, 2) and back.labels.tolist() == [0, 1, 0, 1] and back.indices.tolist() == [0, 1, 2, 3]
    hits = RetrievalHits(np.array([3, 1]), np.array([[0, 2], [1, 0]]), np.ones((2, 2)), np.array([0, 1]),
                         np.array([[0, 0], [1, 0]]))
    np.savez(tmp_path / "r.npz", **hits.arrays())
    back = read_retrieval(row(tmp_path / "r.npz", "retrieval"))
    assert all((getattr(back, k) == v).all() for k, v in hits.arrays().items())


@pytest.mark.parametrize("damage, words", [
    ("missing", "is missing"), ("garbage", "cannot be read"), ("other arrays", "cannot be read"),
    ("lengths", "different lengths"), ("no path", "has no embedding artifact"), ("not 2-D", "not a 2-D map")])
def test_a_bad_file_is_one_sentence(tmp_path, damage, words):
    path = tmp_path / "m.npz"
    if damage == "garbage":
        path.write_bytes(b"not a zip at all")
    elif damage == "other arrays":
        np.savez(path, xy=np.zeros((3, 2)))
    elif damage == "lengths":
        np.savez(path, xy=np.zeros((3, 2)), labels=np.zeros(2), indices=np.zeros(3))
    elif damage == "not 2-D":
        np.savez(path, xy=np.zeros((3, 3)), labels=np.zeros(3), indices=np.zeros(3))
    evaluation = {"id": 5, "protocol": "embedding", "results": {}} if damage == "no path" else row(path)
    with pytest.raises(ArtifactError, match=words) as info:
        read_embedding(evaluation)
    assert "\n" not in str(info.value)


def test_points_past_the_data_are_refused(tmp_path, home):
    from engine import registry

    registry.discover()
    data = {"id": "shapes", "params": registry.resolve_params("dataset", "shapes", {
        "train_size": "16", "test_size": "12", "image_size": "16"})}
    far = EmbeddingPoints(np.zeros((2, 2), np.float32), np.zeros(2), np.array([0, 500]))
    np.savez(tmp_path / "m.npz", **far.arrays())
    with pytest.raises(ArtifactError, match="points past the 12 images"):
        map_with_images(home, row(tmp_path / "m.npz", params={"data": data}))
    near = EmbeddingPoints(np.zeros((2, 2), np.float32), np.zeros(2), np.array([0, 11]))
    np.savez(tmp_path / "m.npz", **near.arrays())
    shown = map_with_images(home, row(tmp_path / "m.npz", params={"data": data}))
    assert shown.images.shape == (2, 16, 16, 3) and shown.images.dtype == np.uint8 and shown.classes
