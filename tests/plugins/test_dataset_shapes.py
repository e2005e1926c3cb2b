"""The built-in shapes data: seeded and deterministic, cached, every class present, and an
orientation range that can give the data an 'upright'."""
import math

import numpy as np

from engine import registry
from plugins.datasets import shapes


def _split(tmp_path, **params):
    base = {"image_size": 16, "train_size": 40, "test_size": 20}
    return registry.create_dataset("shapes", {**base, **params}, tmp_path / "cache").split("train")


def test_same_seed_same_images_other_seed_other_images(tmp_path):
    a, b = _split(tmp_path / "a"), _split(tmp_path / "b")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, _split(tmp_path / "c", seed=1).images)
    assert set(a.labels.tolist()) == set(range(10)) and len(a.classes) == 10


def test_full_rotation_range_keeps_the_historic_draw():
    """180 degrees draws exactly as before the parameter existed, so caches and figures hold."""
    for seed in range(5):
        old = np.random.default_rng(seed).uniform(0, 2 * math.pi)
        assert shapes._angle(np.random.default_rng(seed), 180) == old


def test_max_rotation_bounds_the_angle_and_changes_the_images(tmp_path):
    rng = np.random.default_rng(0)
    angles = [shapes._angle(rng, 15) for _ in range(1000)]
    assert max(abs(a) for a in angles) <= math.radians(15) and max(angles) > math.radians(10)
    assert all(shapes._angle(rng, 0) == 0 for _ in range(10))
    assert not np.array_equal(_split(tmp_path / "a").images, _split(tmp_path / "b", max_rotation=0).images)


def test_plain_background_keeps_the_shapes_and_drops_the_texture(tmp_path):
    textured, plain = _split(tmp_path / "a"), _split(tmp_path / "b", background="plain")
    assert np.array_equal(textured.labels, plain.labels)
    # same draws apart from the background: the images differ only where the texture was
    same = (textured.images == plain.images).all(axis=-1).mean()
    assert 0.05 < same < 1.0
    corners = plain.images[:, [0, 0, -1, -1], [0, -1, 0, -1]]        # (N, 4, 3): off the shape
    flat = (corners.max(axis=1).astype(int) - corners.min(axis=1)).max(axis=-1) <= 2
    assert flat.mean() > 0.9
