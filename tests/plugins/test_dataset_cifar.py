"""cifar10 / cifar100 read python batches that the test writes in the official layout."""
import io
import os
import pickle
import struct

import numpy as np
import pytest

from engine import registry
from engine.data.dataset import DataError
from engine.params import ParamError
from plugins.datasets.cifar import Cifar10, Cifar100

registry.discover()

CIFAR10_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]


def _batch(rng, n, num_classes, label_key):
    """A dict shaped like an official batch, images (n, 32, 32, 3) returned alongside."""
    images = rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, num_classes, n)]
    data = images.transpose(0, 3, 1, 2).reshape(n, 3072)  # 1024 R, 1024 G, 1024 B, row-major
    d = {b"batch_label": b"training batch", label_key.encode(): labels, b"data": data,
         b"filenames": [f"img_{i}.png".encode() for i in range(n)]}
    return d, images, np.array(labels)


def _dump(obj, path, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def write_cifar10(folder, n=6, protocol=2, seed=0):
    """-> (train images, train labels, test images, test labels) written under folder."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    train_x, train_y = [], []
    for i in range(1, 6):
        d, x, y = _batch(rng, n, 10, "labels")
        _dump(d, folder / f"data_batch_{i}", protocol)
        train_x.append(x)
        train_y.append(y)
    d, test_x, test_y = _batch(rng, n, 10, "labels")
    _dump(d, folder / "test_batch", protocol)
    _dump({b"label_names": [s.encode() for s in CIFAR10_NAMES], b"num_cases_per_batch": n,
           b"num_vis": 3072}, folder / "batches.meta", protocol)
    return np.concatenate(train_x), np.concatenate(train_y), test_x, test_y


def write_cifar100(folder, n=8, protocol=4):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    out = []
    for name in ("train", "test"):
        d, x, y = _batch(rng, n, 100, "fine_labels")
        d[b"coarse_labels"] = [v // 5 for v in y.tolist()]
        _dump(d, folder / name, protocol)
        out += [x, y]
    _dump({"fine_label_names": [f"class{i}" for i in range(100)],
           "coarse_label_names": [f"super{i}" for i in range(20)]}, folder / "meta", protocol)
    return out


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_cifar10_reads_official_batches_upright(tmp_path, protocol):
    train_x, train_y, test_x, test_y = write_cifar10(tmp_path / "cifar-10-batches-py", protocol=protocol)
    ds = registry.create_dataset("cifar10", {"root": str(tmp_path)}, tmp_path / "cache")  # the parent folder
    ds.check()
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert train.images.shape == (30, 32, 32, 3) and train.images.dtype == np.uint8
    np.testing.assert_array_equal(train.images, train_x)  # channel-major rows decoded to HWC
    np.testing.assert_array_equal(train.labels, train_y)
    assert train.labels.dtype == np.int64
    np.testing.assert_array_equal(test.images, test_x)
    np.testing.assert_array_equal(test.labels, test_y)
    assert unlabeled.labels is None and len(unlabeled) == 30
    assert train.classes == CIFAR10_NAMES


def test_cifar10_accepts_the_folder_itself_resizes_and_caches(tmp_path):
    folder = tmp_path / "my cifar é" / "cifar-10-batches-py"
    write_cifar10(folder)
    ds = registry.create_dataset("cifar10", {"root": str(folder), "image_size": 16}, tmp_path / "cache")
    assert ds.split("train").images.shape == (30, 16, 16, 3)
    again = registry.create_dataset("cifar10", {"root": str(folder), "image_size": 16}, tmp_path / "cache")
    cached = list((tmp_path / "cache" / "datasets").glob("cifar10-*-train.json"))
    assert len(cached) == 1
    np.testing.assert_array_equal(again.split("train").images, ds.split("train").images)


def test_cifar100_fine_labels_and_names(tmp_path):
    train_x, train_y, test_x, test_y = write_cifar100(tmp_path / "cifar-100-python")
    ds = registry.create_dataset("cifar100", {"root": str(tmp_path)})
    ds.check()
    train = ds.split("train")
    np.testing.assert_array_equal(train.images, train_x)
    np.testing.assert_array_equal(train.labels, train_y)
    np.testing.assert_array_equal(ds.split("test").labels, test_y)
    assert len(train.classes) == 100 and train.classes[7] == "class7"


def test_root_is_required_and_must_exist(tmp_path):
    with pytest.raises(ParamError, match="root"):
        registry.create_dataset("cifar10", {})
    with pytest.raises(ParamError, match="does not exist"):
        registry.create_dataset("cifar100", {"root": str(tmp_path / "nope")})


def test_missing_batch_is_named_by_check(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    (folder / "data_batch_3").unlink()
    with pytest.raises(DataError, match=r"data_batch_3 is missing"):
        Cifar10(root=str(tmp_path), image_size=32).check()


def test_empty_folder_names_the_first_missing_file(tmp_path):
    with pytest.raises(DataError, match="data_batch_1 is missing"):
        Cifar10(root=str(tmp_path), image_size=32).check()


def test_truncated_batch_is_a_clear_error_from_check(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    path = folder / "test_batch"
    path.write_bytes(path.read_bytes()[: os.path.getsize(path) // 2])
    with pytest.raises(DataError, match=r"test_batch is truncated or damaged"):
        Cifar10(root=str(folder), image_size=32).check()


def test_wrong_shape_and_labels_are_rejected(tmp_path):
    folder = tmp_path / "cifar-100-python"
    write_cifar100(folder)
    _dump({"data": np.zeros((4, 100), np.uint8), "fine_labels": [0, 1, 2, 3]}, folder / "test")
    with pytest.raises(DataError, match=r"test holds data of shape \(4, 100\)"):
        Cifar100(root=str(folder), image_size=32).check()
    _dump({"data": np.zeros((2, 3072), np.uint8), "fine_labels": [0, 100]}, folder / "test")
    with pytest.raises(DataError, match="labels outside 0..99"):
        Cifar100(root=str(folder), image_size=32).check()


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_malicious_pickle_is_refused_without_running(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar10(folder)
    marker = tmp_path / "pwned"
    _dump({b"data": np.zeros((1, 3072), np.uint8), b"labels": [0], b"x": _Exploit(marker)},
          folder / "data_batch_2")
    with pytest.raises(DataError, match=r"data_batch_2 asks to run .*system"):
        Cifar10(root=str(folder), image_size=32).check()
    assert not marker.exists()


def test_restricted_unpickler_refuses_builtins_eval(tmp_path):
    from engine.data.restricted_pickle import ForbiddenPickle, load_restricted

    path = tmp_path / "evil"
    # GLOBAL builtins.eval, then call it: the classic pickle exploit, hand-written
    path.write_bytes(b"cbuiltins\neval\n(S'1+1'\ntR.")
    with pytest.raises(ForbiddenPickle, match="builtins.eval"):
        load_restricted(path)


def test_plugins_declare_summary_citation_and_param_help():
    for plugin_id in ("cifar10", "cifar100"):
        entry = registry.get("dataset", plugin_id)
        assert "Krizhevsky" in entry.cls.citation and "2009" in entry.cls.citation
        assert entry.cls.summary and all(p.help for p in entry.schema)


class _Python2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 ``str`` opcodes (SHORT_BINSTRING/BINSTRING), as cPickle did
    for the official CIFAR files, which Python 3 then reads back as latin1 text."""

    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([n]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def test_reads_python2_pickles_like_the_official_files(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    train_x, train_y, _, _ = write_cifar10(folder)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch", "batches.meta"]:
        with open(folder / name, "rb") as f:
            d = pickle.load(f)
        buf = io.BytesIO()
        _Python2Pickler(buf, protocol=2).dump(d)
        raw = buf.getvalue().replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
        assert b"_codecs" not in raw
        assert name == "batches.meta" or b"numpy.core.multiarray\n_reconstruct" in raw
        (folder / name).write_bytes(raw)
    train = Cifar10(root=str(folder), image_size=32).split("train")
    np.testing.assert_array_equal(train.images, train_x)
    np.testing.assert_array_equal(train.labels, train_y)
    assert train.classes == CIFAR10_NAMES
