"""stl10 reads binaries that the test writes in the official column-major layout."""
import numpy as np
import pytest

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.stl10 import IMAGE_BYTES, STL10, stl_to_hwc

registry.discover()
NAMES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def to_official(images):
    """(N, 96, 96, 3) upright -> the official bytes: per image, per channel, column by column."""
    return np.ascontiguousarray(images.transpose(0, 3, 2, 1)).tobytes()


def write_stl(folder, n_train=4, n_test=3, n_unlabeled=5, seed=0):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for name, n in (("train", n_train), ("test", n_test), ("unlabeled", n_unlabeled)):
        x = rng.integers(0, 256, (n, 96, 96, 3), dtype=np.uint8)
        np.frombuffer(to_official(x), np.uint8).tofile(folder / f"{name}_X.bin")
        y = None
        if name != "unlabeled":
            y = rng.integers(0, 10, n)
            (y + 1).astype(np.uint8).tofile(folder / f"{name}_y.bin")
        out[name] = (x, y)
    (folder / "class_names.txt").write_text("\n".join(NAMES) + "\n")
    return out


def test_orientation_an_asymmetric_image_comes_back_upright(tmp_path):
    img = np.zeros((96, 96, 3), np.uint8)
    img[:10, :, 0] = 255        # a red bar along the top
    img[:, :5, 1] = 255         # a green bar down the left side
    img[80:, 60:70, 2] = 255    # a blue block near the bottom right
    folder = tmp_path / "stl10_binary"
    write_stl(folder)
    np.frombuffer(to_official(img[None]), np.uint8).tofile(folder / "train_X.bin")
    np.array([3], np.uint8).tofile(folder / "train_y.bin")
    # the file itself is column-major: its first 96 red bytes are the left column, top to bottom
    first_column_red = np.fromfile(folder / "train_X.bin", np.uint8)[:96]
    np.testing.assert_array_equal(first_column_red, img[:, 0, 0])
    split = STL10(root=str(tmp_path), image_size=96, max_unlabeled=0).split("train")
    np.testing.assert_array_equal(split.images[0], img)
    assert split.labels.tolist() == [2]  # 1..10 on disk -> 0..9


def test_splits_shapes_labels_and_resize(tmp_path):
    data = write_stl(tmp_path / "stl10_binary")
    ds = registry.create_dataset("stl10", {"root": str(tmp_path), "image_size": 32}, tmp_path / "cache")
    ds.check()
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert train.images.shape == (4, 32, 32, 3) and train.images.dtype == np.uint8
    assert test.images.shape == (3, 32, 32, 3) and unlabeled.images.shape == (5, 32, 32, 3)
    np.testing.assert_array_equal(train.labels, data["train"][1])
    np.testing.assert_array_equal(test.labels, data["test"][1])
    assert train.labels.dtype == np.int64 and unlabeled.labels is None
    assert train.classes == NAMES


def test_full_size_is_exact_and_max_unlabeled_takes_the_first_images(tmp_path):
    data = write_stl(tmp_path, n_unlabeled=7)  # the files directly in root
    ds = STL10(root=str(tmp_path), image_size=96, max_unlabeled=3)
    unlabeled = ds.split("unlabeled")
    np.testing.assert_array_equal(unlabeled.images, data["unlabeled"][0][:3])
    np.testing.assert_array_equal(ds.split("test").images, data["test"][0])
    assert len(STL10(root=str(tmp_path), image_size=96, max_unlabeled=0).split("unlabeled")) == 7


def test_unlabeled_file_is_memory_mapped_not_read_whole(tmp_path, monkeypatch):
    write_stl(tmp_path, n_unlabeled=6)
    read_rows = []
    real = stl_to_hwc

    def spy(raw):
        read_rows.append(raw.size // IMAGE_BYTES)
        return real(raw)

    monkeypatch.setattr("plugins.datasets.stl10.stl_to_hwc", spy)
    monkeypatch.setattr(np, "fromfile", lambda *a, **k: pytest.fail("unlabeled_X.bin read whole"))
    STL10(root=str(tmp_path), image_size=96, max_unlabeled=2).split("unlabeled")
    assert read_rows == [2]


def test_truncated_image_file_is_named(tmp_path):
    write_stl(tmp_path)
    path = tmp_path / "unlabeled_X.bin"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match=r"unlabeled_X.bin is truncated .* 27648-byte images"):
        STL10(root=str(tmp_path), image_size=64, max_unlabeled=0).check()


@pytest.mark.parametrize("name", ["train_X.bin", "test_y.bin", "unlabeled_X.bin"])
def test_missing_file_is_named(tmp_path, name):
    write_stl(tmp_path)
    (tmp_path / name).unlink()
    with pytest.raises(DataError, match=f"{name} is missing"):
        STL10(root=str(tmp_path), image_size=64, max_unlabeled=0).check()


def test_label_file_that_does_not_match_is_named(tmp_path):
    write_stl(tmp_path)
    np.array([1, 2], np.uint8).tofile(tmp_path / "train_y.bin")
    with pytest.raises(DataError, match="train_y.bin has 2 labels but its image file has 4 images"):
        STL10(root=str(tmp_path), image_size=64, max_unlabeled=0).check()
    np.array([0, 1, 2, 11], np.uint8).tofile(tmp_path / "train_y.bin")
    with pytest.raises(DataError, match="train_y.bin has labels outside 1..10"):
        STL10(root=str(tmp_path), image_size=64, max_unlabeled=0).check()


def test_empty_image_file_is_named(tmp_path):
    write_stl(tmp_path)
    (tmp_path / "test_X.bin").write_bytes(b"")
    with pytest.raises(DataError, match="test_X.bin is truncated"):
        STL10(root=str(tmp_path), image_size=64, max_unlabeled=0).check()


def test_declares_citation_and_help():
    cls = registry.get("dataset", "stl10").cls
    assert "Coates" in cls.citation and "2011" in cls.citation
    assert cls.summary and all(p.help for p in cls.params)
