"""svhn reads .mat files that the test writes with scipy.io.savemat in the official layout."""
import numpy as np
import pytest
import scipy.io

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.svhn import SVHN

registry.discover()


def write_svhn(folder, n_train=20, n_test=10, n_extra=0, compress=True, seed=0):
    """-> {"train": (images (N, 32, 32, 3), digits (N,)), ...}; X is (32, 32, 3, N), y (N, 1)
    with 10 for the digit 0, as in the official files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for which, n in (("train", n_train), ("test", n_test), ("extra", n_extra)):
        if not n:
            continue
        images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
        digits = np.arange(n) % 10
        y = np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]
        scipy.io.savemat(folder / f"{which}_32x32.mat", {"X": np.moveaxis(images, 0, 3), "y": y},
                         do_compression=compress)
        out[which] = (images, digits.astype(np.int64))
    return out


@pytest.mark.parametrize("compress", [True, False])
def test_splits_images_upright_and_label_10_is_0(tmp_path, compress):
    data = write_svhn(tmp_path, compress=compress)
    ds = registry.create_dataset("svhn", {"root": str(tmp_path)}, tmp_path / "cache")
    ds.check()
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert train.images.shape == (20, 32, 32, 3) and train.images.dtype == np.uint8
    np.testing.assert_array_equal(train.images, data["train"][0])
    np.testing.assert_array_equal(test.images, data["test"][0])
    np.testing.assert_array_equal(train.labels, data["train"][1])
    assert train.labels[0] == 0 and 10 not in train.labels and train.labels.dtype == np.int64
    assert unlabeled.labels is None and len(unlabeled) == 20
    assert train.classes == [str(d) for d in range(10)]


def test_an_asymmetric_image_comes_back_upright(tmp_path):
    img = np.zeros((32, 32, 3), np.uint8)
    img[:4, :, 0] = 255  # red bar along the top
    img[:, :2, 1] = 255  # green bar down the left
    scipy.io.savemat(tmp_path / "train_32x32.mat", {"X": img[..., None], "y": np.array([[3]], np.uint8)})
    write_svhn(tmp_path, n_train=0)
    split = SVHN(root=str(tmp_path), image_size=32).split("train")
    np.testing.assert_array_equal(split.images[0], img)


def test_extra_joins_only_the_unlabeled_split_and_resizes(tmp_path):
    data = write_svhn(tmp_path, n_extra=6)
    ds = SVHN(root=str(tmp_path), image_size=16, extra=True)
    ds.check()
    assert ds.split("unlabeled").images.shape == (26, 16, 16, 3)
    assert len(ds.split("train")) == 20 and len(ds.split("test")) == 10
    start = list(SVHN(root=str(tmp_path), image_size=32, extra=True).iter_split("unlabeled", start=22))
    np.testing.assert_array_equal(np.concatenate([c.samples for c in start]), data["extra"][0][2:])


def test_unlabeled_holds_no_test_image(tmp_path):
    write_svhn(tmp_path, n_extra=5)
    ds = SVHN(root=str(tmp_path), image_size=32, extra=True)
    assert not {r.tobytes() for r in ds.split("unlabeled").images} & {r.tobytes() for r in ds.split("test").images}


def test_declares_citation():
    entry = registry.get("dataset", "svhn")
    assert "Netzer" in entry.cls.citation and "2011" in entry.cls.citation and all(p.help for p in entry.schema)


# --- bad input: one sentence each ------------------------------------------------------------
def _one_sentence(err) -> None:
    assert "\n" not in str(err) and ". " not in str(err)


def test_missing_files(tmp_path):
    write_svhn(tmp_path, n_test=0)
    with pytest.raises(DataError, match="test_32x32.mat is missing; svhn needs it always") as e:
        SVHN(root=str(tmp_path)).check()
    _one_sentence(e.value)
    write_svhn(tmp_path)
    with pytest.raises(DataError, match="extra_32x32.mat is missing; svhn needs it with extra on"):
        SVHN(root=str(tmp_path), extra=True).check()


@pytest.mark.parametrize("compress", [True, False])
def test_truncated_file(tmp_path, compress):
    write_svhn(tmp_path, compress=compress)
    path = tmp_path / "train_32x32.mat"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match="train_32x32.mat is truncated or damaged") as e:
        SVHN(root=str(tmp_path)).check()
    _one_sentence(e.value)


def test_not_a_mat_file(tmp_path):
    write_svhn(tmp_path)
    (tmp_path / "test_32x32.mat").write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(DataError, match=r"test_32x32.mat is not a MATLAB v5 .mat file") as e:
        SVHN(root=str(tmp_path)).check()
    _one_sentence(e.value)


def test_wrong_variables_shapes_counts_and_labels(tmp_path):
    write_svhn(tmp_path)
    path = tmp_path / "test_32x32.mat"
    bad = {
        "has no y variable": {"X": np.zeros((32, 32, 3, 2), np.uint8)},
        r"holds X of shape \(28, 28, 2\) uint8": {"X": np.zeros((28, 28, 2), np.uint8), "y": np.ones((2, 1))},
        "has 2 images but 3 labels": {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.ones((3, 1))},
    }
    for message, variables in bad.items():
        scipy.io.savemat(path, variables)
        with pytest.raises(DataError, match=message) as e:
            SVHN(root=str(tmp_path)).check()
        _one_sentence(e.value)
    scipy.io.savemat(path, {"X": np.zeros((32, 32, 3, 2), np.uint8), "y": np.array([[0], [11]])})
    with pytest.raises(DataError, match="test_32x32.mat has labels outside 1..10"):
        SVHN(root=str(tmp_path)).check()


# --- streaming X out of the file ---------------------------------------------------------------
@pytest.mark.parametrize("compress", [True, False])
def test_x_is_streamed_in_bounded_chunks_from_any_start(tmp_path, compress, monkeypatch):
    from plugins.datasets import mat_stream, svhn

    data = write_svhn(tmp_path, n_extra=9, compress=compress)
    assert mat_stream.find_uint8(tmp_path / "extra_32x32.mat", "X") == (32, 32, 3, 9)
    monkeypatch.setattr(svhn.SVHN, "chunk_step", lambda self: 4)
    chunks = list(SVHN(root=str(tmp_path), image_size=32, extra=True).iter_split("unlabeled", start=18))
    assert [len(c.samples) for c in chunks] == [2, 4, 4, 1]  # train's last 2, then extra in fours
    got = np.concatenate([c.samples for c in chunks])
    np.testing.assert_array_equal(got, np.concatenate([data["train"][0][18:], data["extra"][0]]))
    test_chunks = list(SVHN(root=str(tmp_path), image_size=32).iter_split("test", start=5))
    np.testing.assert_array_equal(np.concatenate([c.labels for c in test_chunks]), data["test"][1][5:])


def test_an_x_stored_otherwise_is_loaded_by_scipy_instead(tmp_path, monkeypatch):
    from plugins.datasets import svhn

    data = write_svhn(tmp_path)
    monkeypatch.setattr(svhn, "find_uint8", lambda path, name: None)
    split = SVHN(root=str(tmp_path), image_size=32).split("train")
    np.testing.assert_array_equal(split.images, data["train"][0])


def test_a_damaged_compressed_stream_is_one_sentence(tmp_path):
    write_svhn(tmp_path, n_train=40, compress=True)
    path = tmp_path / "train_32x32.mat"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = bytes(64)  # inside X's zlib stream
    path.write_bytes(bytes(raw))
    with pytest.raises(DataError, match="train_32x32.mat is truncated or damaged") as e:
        SVHN(root=str(tmp_path)).split("train")
    _one_sentence(e.value)
