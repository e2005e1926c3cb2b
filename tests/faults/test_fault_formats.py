"""Guarantee 5 for the MNIST-family, SVHN, Tiny-ImageNet and ImageNet-style loaders: damaged
files are refused before training with one line (exit 2, no run row), unreadable images
inside folders are skipped and counted. Driven through the CLI; the loaders' own tests are
in tests/plugins/test_dataset_*.py, whose fixture writers are reused here."""
import gzip

import numpy as np
import pytest

from engine.store.database import Store
from tests.faults.test_fault_data import _refused, _train
from tests.plugins.test_dataset_imagenet_folders import write_imagenet
from tests.plugins.test_dataset_mnist import idx_bytes, write_mnist
from tests.plugins.test_dataset_svhn import write_svhn
from tests.plugins.test_dataset_tiny_imagenet import write_tiny_imagenet

pytestmark = pytest.mark.faults


def _halve(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.mark.parametrize("damage, fragment", [
    (lambda r: (r / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros((20, 2, 2), np.uint8)))),
     "its magic number is 0x00000803, not 0x00000801"),
    (lambda r: _halve(r / "t10k-images-idx3-ubyte.gz"), "t10k-images-idx3-ubyte.gz is truncated or damaged"),
    (lambda r: (r / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.zeros(3, np.uint8)))),
     "has 10 images but t10k-labels-idx1-ubyte.gz has 3 labels"),
    (lambda r: (r / "train-images-idx3-ubyte.gz").unlink(), "(or train-images-idx3-ubyte.gz) is missing"),
])
def test_a_damaged_fashion_mnist_folder_is_refused(home, tmp_path, capsys, damage, fragment):
    raw = tmp_path / "vision data" / "FashionMNIST" / "raw"
    write_mnist(raw, gz=True)
    damage(raw)
    _refused(home, capsys, fragment, "--data", "fashion_mnist", "--set", f"root={raw.parent.parent}")


@pytest.mark.parametrize("damage, fragment", [
    (lambda r: _halve(r / "train_32x32.mat"), "train_32x32.mat is truncated or damaged"),
    (lambda r: (r / "test_32x32.mat").write_bytes(b"<html>Not Found</html>"), "is not a MATLAB v5 .mat file"),
    (lambda r: (r / "test_32x32.mat").unlink(), "test_32x32.mat is missing"),
])
def test_a_damaged_svhn_folder_is_refused(home, tmp_path, capsys, damage, fragment):
    write_svhn(tmp_path / "svhn")
    damage(tmp_path / "svhn")
    _refused(home, capsys, fragment, "--data", "svhn", "--set", f"root={tmp_path / 'svhn'}")


def test_a_tiny_imagenet_without_val_labels_is_refused(home, tmp_path, capsys):
    write_tiny_imagenet(tmp_path / "tiny-imagenet-200")
    (tmp_path / "tiny-imagenet-200" / "val" / "val_annotations.txt").unlink()
    _refused(home, capsys, "val_annotations.txt is missing", "--data", "tiny_imagenet", "--set", f"root={tmp_path}")


def test_unreadable_tiny_imagenet_images_are_skipped_and_counted(home, tmp_path, capsys):
    write_tiny_imagenet(tmp_path)
    for i, path in enumerate(sorted((tmp_path / "train").rglob("*.JPEG"))[:3]):
        path.write_bytes(b"" if i else path.read_bytes()[:120])
    code, out = _train(home, capsys, "--data", "tiny_imagenet", "--set", f"root={tmp_path}")
    assert code == 0, out.err
    assert Store(home).list_runs()[0].status == "completed"
    assert "skipped 3 unreadable image files" in out.err


def test_an_imagenet_val_csv_naming_an_unknown_class_is_refused(home, tmp_path, capsys):
    write_imagenet(tmp_path, flat_val=True)
    (tmp_path / "val_labels.csv").write_text("filename,label\nval_00.JPEG,okapi\n")
    _refused(home, capsys, "names class 'okapi', which has no folder in train/", "--data", "imagenet_folders",
             "--set", f"root={tmp_path}")
