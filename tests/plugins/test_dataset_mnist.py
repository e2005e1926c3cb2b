"""mnist / fashion_mnist / kmnist read IDX files that the test writes, plain or gzipped, in
root or in torchvision's <Name>/raw layout."""
import gzip
import struct

import numpy as np
import pytest

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.mnist import FashionMnist, Kmnist, Mnist

registry.discover()
STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of a uint8 array: magic 0x0000080d, big-endian sizes, the bytes."""
    return struct.pack(">I", 0x0800 | array.ndim) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_mnist(folder, n_train=20, n_test=10, gz=False, seed=0):
    """-> {"train": (images, labels), "test": (...)}, written as the four IDX files."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    out = {}
    for source, n in (("train", n_train), ("test", n_test)):
        x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        y = rng.integers(0, 10, n).astype(np.uint8)
        prefix = "train" if source == "train" else "t10k"
        for stem, arr in ((f"{prefix}-images-idx3-ubyte", x), (f"{prefix}-labels-idx1-ubyte", y)):
            raw = idx_bytes(arr)
            if gz:
                (folder / f"{stem}.gz").write_bytes(gzip.compress(raw))
            else:
                (folder / stem).write_bytes(raw)
        out[source] = (x, y.astype(np.int64))
    return out


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("layout", ["root", "torchvision"])
def test_reads_both_layouts_plain_and_gzipped(tmp_path, gz, layout):
    folder = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path / "digits"
    data = write_mnist(folder, gz=gz)
    root = tmp_path if layout == "torchvision" else folder
    ds = registry.create_dataset("mnist", {"root": str(root), "image_size": 28}, tmp_path / "cache")
    ds.check()
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert train.images.shape == (20, 28, 28, 3) and train.images.dtype == np.uint8
    assert test.images.shape == (10, 28, 28, 3) and unlabeled.images.shape == (20, 28, 28, 3)
    for channel in range(3):  # grey replicated to RGB, pixels untouched at the original size
        np.testing.assert_array_equal(train.images[..., channel], data["train"][0])
    np.testing.assert_array_equal(test.images[..., 0], data["test"][0])
    np.testing.assert_array_equal(train.labels, data["train"][1])
    np.testing.assert_array_equal(test.labels, data["test"][1])
    assert train.labels.dtype == np.int64 and unlabeled.labels is None
    assert train.classes == [str(d) for d in range(10)]


def test_resizes_to_image_size_and_streams_in_chunks(tmp_path, monkeypatch):
    from plugins.datasets import mnist

    write_mnist(tmp_path, n_train=7, gz=True)
    monkeypatch.setattr(mnist.IdxDataset, "chunk_step", lambda self: 3)
    ds = Mnist(root=str(tmp_path), image_size=16)
    chunks = list(ds.iter_split("train", start=2))
    assert [len(c.samples) for c in chunks] == [3, 2]
    assert chunks[0].samples.shape == (3, 16, 16, 3)
    np.testing.assert_array_equal(np.concatenate([c.labels for c in chunks]), ds.split("train").labels[2:])


def test_unlabeled_holds_no_test_image(tmp_path):
    write_mnist(tmp_path)
    ds = Mnist(root=str(tmp_path), image_size=28)
    pre = {row.tobytes() for row in ds.split("unlabeled").images}
    assert not pre & {row.tobytes() for row in ds.split("test").images}


@pytest.mark.parametrize("cls,folder,names", [(FashionMnist, "FashionMNIST", ("T-shirt/top", "Ankle boot")),
                                              (Kmnist, "KMNIST", ("o", "wo"))])
def test_variants_find_their_torchvision_folder_and_name_classes(tmp_path, cls, folder, names):
    data = write_mnist(tmp_path / folder / "raw", gz=True)
    split = cls(root=str(tmp_path), image_size=28).split("test")
    np.testing.assert_array_equal(split.labels, data["test"][1])
    assert len(split.classes) == 10 and (split.classes[0], split.classes[9]) == names


def test_plugins_declare_citations():
    for plugin_id, source in (("mnist", "LeCun"), ("fashion_mnist", "Xiao"), ("kmnist", "Clanuwat")):
        entry = registry.get("dataset", plugin_id)
        assert source in entry.cls.citation and entry.cls.summary and all(p.help for p in entry.schema)


# --- bad input: one sentence, never a traceback -------------------------------------------
def _one_sentence(err: DataError) -> str:
    msg = str(err)
    assert "\n" not in msg and "Traceback" not in msg and msg.count(". ") == 0
    return msg


def test_missing_file_is_named(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte \(or t10k-labels-idx1-ubyte.gz\) is missing") as e:
        Mnist(root=str(tmp_path)).check()
    _one_sentence(e.value)


def test_empty_folder_names_the_files_it_needs(tmp_path):
    with pytest.raises(DataError, match="train-images-idx3-ubyte .* is missing .*MNIST/raw") as e:
        Mnist(root=str(tmp_path)).check()
    _one_sentence(e.value)


def test_wrong_magic_number(tmp_path):
    write_mnist(tmp_path)
    path = tmp_path / "train-labels-idx1-ubyte"  # an image file where the labels should be
    path.write_bytes(idx_bytes(np.zeros((20, 28, 28), np.uint8)))
    with pytest.raises(DataError, match=r"not an IDX file of 1-d unsigned bytes: its magic number is "
                                        r"0x00000803, not 0x00000801") as e:
        Mnist(root=str(tmp_path)).check()
    _one_sentence(e.value)
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"PK\x03\x04 a zip file")
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte is not an IDX file"):
        Mnist(root=str(tmp_path)).split_spec("test")


@pytest.mark.parametrize("gz", [False, True])
def test_truncated_file(tmp_path, gz):
    write_mnist(tmp_path, gz=gz)
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    path = tmp_path / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataError, match=f"{name} is truncated or damaged") as e:
        Mnist(root=str(tmp_path)).check()
    _one_sentence(e.value)


def test_truncated_gzip_stream_found_while_reading(tmp_path):
    """A gzip whose trailer still fits (rewritten) but whose stream ends early fails in iter_split."""
    write_mnist(tmp_path, gz=True)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    raw = gzip.compress(idx_bytes(np.zeros((10, 28, 28), np.uint8)))
    path.write_bytes(raw[: len(raw) // 2] + raw[-4:])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz is truncated or damaged") as e:
        Mnist(root=str(tmp_path)).split("test")
    _one_sentence(e.value)


def test_mismatched_counts(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(9, np.uint8)))
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte has 10 images but t10k-labels-idx1-ubyte has 9 "
                                        "labels") as e:
        Mnist(root=str(tmp_path)).check()
    _one_sentence(e.value)


def test_labels_out_of_range(tmp_path):
    write_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(20, 10, np.uint8)))
    with pytest.raises(DataError, match="has labels above 9"):
        Kmnist(root=str(tmp_path)).check()


def test_cli_turns_bad_files_into_exit_2(tmp_path, capsys):
    from engine.cli.commands import main

    write_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03\x00")
    code = main(["train", "--home", str(tmp_path / "home"), "--data", "mnist", "--set", f"data.root={tmp_path}",
                 "--method", "simclr", "--backbone", "convnet", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err and "train-images-idx3-ubyte is truncated" in err
