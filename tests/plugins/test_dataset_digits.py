"""digits: scikit-learn's bundled 8x8 digits as RGB images, seeded stratified split."""
import numpy as np

from engine import registry
from engine.data.stratified_split import stratified_split
from engine.params import resolve

registry.discover()


def test_sizes_classes_and_upscaling(tmp_path):
    ds = registry.create_dataset("digits", {"image_size": 16}, tmp_path)
    ds.check()
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert len(train) + len(test) == 1797
    assert abs(len(test) - 0.2 * 1797) < 10
    assert train.images.shape[1:] == (16, 16, 3) and train.images.dtype == np.uint8
    assert train.classes == [str(d) for d in range(10)]
    assert unlabeled.labels is None and len(unlabeled) == len(train)
    np.testing.assert_array_equal(unlabeled.images, train.images)
    assert (train.images[..., 0] == train.images[..., 2]).all()  # grey replicated to RGB
    assert train.images.max() == 255 and train.images.min() == 0
    assert set(np.bincount(test.labels).tolist()) <= set(range(34, 39))  # stratified: ~36 per class


def test_default_is_32_pixels():
    ds = registry.create_dataset("digits", {})
    assert ds.split("test").images.shape[1:] == (32, 32, 3)


def test_split_is_deterministic_and_seeded():
    a = registry.create_dataset("digits", {"image_size": 8, "seed": 3}).split("test")
    b = registry.create_dataset("digits", {"image_size": 8, "seed": 3}).split("test")
    c = registry.create_dataset("digits", {"image_size": 8, "seed": 4}).split("test")
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.images, c.images)


def test_test_fraction_is_respected():
    ds = registry.create_dataset("digits", {"image_size": 8, "test_fraction": 0.5})
    assert abs(len(ds.split("test")) - 1797 / 2) < 10


def test_stratified_split_partitions_and_keeps_singletons_in_train():
    labels = np.array([0] * 10 + [1] * 3 + [2])
    train, test = stratified_split(labels, 0.3, seed=0)
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(14))
    assert np.bincount(labels[test], minlength=3).tolist() == [3, 1, 0]


def test_declares_citation_and_help():
    cls = registry.get("dataset", "digits").cls
    assert "Alpaydin" in cls.citation and "1998" in cls.citation
    assert all(p.help for p in cls.params)
    assert resolve(cls.params, {})["image_size"] == 32
