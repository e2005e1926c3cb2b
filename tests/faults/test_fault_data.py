"""Guarantee 5: bad data is either skipped and counted, or refused before training starts
with one clear line (exit 2, no run row). Driven through the CLI; the loaders' own tests are
in tests/plugins/test_dataset_*.py."""
import io
import pickle
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from engine.cli.commands import main
from engine.store.database import Store

pytestmark = pytest.mark.faults
TINY = ["--epochs", "1", "--batch-size", "8", "--device", "cpu", "--set", "image_size=16", "--set", "width=8",
        "--set", "knn_every=0"]


def _png(seed: int) -> bytes:
    rgb = np.random.default_rng(seed).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


def _jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(_png(seed))).save(buf, "JPEG")
    return buf.getvalue()


def _bomb() -> bytes:
    """A valid little PNG whose header claims 40000 x 40000 pixels (1.6 gigapixels)."""
    data = bytearray(_png(0))
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes of header
    ihdr[4:12] = struct.pack(">II", 40000, 40000)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


BAD_FILES = {  # name -> bytes: each is unreadable in its own way
    "truncated.jpg": _jpeg(1)[:200],
    "empty.png": b"",
    "notes.png": b"these are my notes, not a picture\n" * 20,
    "bomb.png": _bomb(),
}


def _class_folder(folder, n, seed, bad=False):
    folder.mkdir(parents=True)
    for i in range(n):
        (folder / f"img {i}.png").write_bytes(_png(seed + i))
    (folder / "really a jpeg.png").write_bytes(_jpeg(seed + 99))  # wrong extension, readable
    if bad:
        for name, blob in BAD_FILES.items():
            (folder / name).write_bytes(blob)


def _train(home, capsys, *args):
    code = main(["train", *args, *TINY, "--home", str(home)])
    return code, capsys.readouterr()


def _refused(home, capsys, fragment, *args):
    code, out = _train(home, capsys, *args)
    err = out.err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith("error:"), err
    assert fragment in err, err
    assert Store(home).list_runs() == [], "refused before any run is created"
    return err


def test_unreadable_images_are_skipped_and_counted_in_a_path_with_spaces_and_accents(home, tmp_path, capsys):
    root = tmp_path / "mes données" / "日本 photos"
    _class_folder(root / "chat noir", 6, 0, bad=True)
    _class_folder(root / "chien ü", 6, 50)
    code, out = _train(home, capsys, "--data", "folder", "--set", f"root={root}")
    assert code == 0, out.err
    run = Store(home).list_runs()[0]
    assert run.status == "completed"
    assert run.config["data"]["params"]["root"] == str(root)
    message = f"skipped {len(BAD_FILES)} unreadable image files"
    assert message in out.err and message in (Store(home).run_dir(run.id).log).read_text()


def test_a_folder_of_only_unreadable_files_is_refused(home, tmp_path, capsys):
    root = tmp_path / "junk"
    root.mkdir()
    for name, blob in BAD_FILES.items():
        (root / name).write_bytes(blob)
    _refused(home, capsys, "could be read", "--data", "folder", "--set", f"root={root}")


def test_classes_that_differ_between_train_and_eval_are_refused(home, tmp_path, capsys):
    _class_folder(tmp_path / "train" / "cat", 3, 0)
    _class_folder(tmp_path / "train" / "dog", 3, 10)
    _class_folder(tmp_path / "eval" / "cat", 3, 20)
    _class_folder(tmp_path / "eval" / "bird", 3, 30)
    err = _refused(home, capsys, "classes differ", "--data", "folder", "--set", f"root={tmp_path / 'train'}",
                   "--set", f"eval_root={tmp_path / 'eval'}")
    assert "bird" in err and "dog" in err


def _cifar10(folder, n=4):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8), b"labels": list(range(n))}
        (folder / name).write_bytes(pickle.dumps(batch, protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}))
    return folder


@pytest.mark.parametrize("damage, fragment", [
    (lambda f: (f / "data_batch_3").unlink(), "data_batch_3 is missing"),
    (lambda f: (f / "test_batch").write_bytes((f / "test_batch").read_bytes()[:1000]), "test_batch is truncated"),
    (lambda f: (f / "data_batch_1").write_bytes(b""), "data_batch_1 is empty"),
])
def test_a_damaged_cifar_folder_is_refused(home, tmp_path, capsys, damage, fragment):
    folder = _cifar10(tmp_path / "cifar 10 ü" / "cifar-10-batches-py")
    damage(folder)
    _refused(home, capsys, fragment, "--data", "cifar10", "--set", f"root={folder.parent}")


def _stl10(folder, n=3):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for part in ("train", "test", "unlabeled"):
        (folder / f"{part}_X.bin").write_bytes(rng.integers(0, 256, n * 27648, dtype=np.uint8).tobytes())
        if part != "unlabeled":
            (folder / f"{part}_y.bin").write_bytes(bytes([1, 2, 3][:n]))
    return folder


@pytest.mark.parametrize("damage, fragment", [
    (lambda f: (f / "test_y.bin").unlink(), "test_y.bin is missing"),
    (lambda f: (f / "train_X.bin").write_bytes((f / "train_X.bin").read_bytes()[:-100]), "train_X.bin is truncated"),
])
def test_a_damaged_stl10_folder_is_refused(home, tmp_path, capsys, damage, fragment):
    folder = _stl10(tmp_path / "stl 10" / "stl10_binary")
    damage(folder)
    _refused(home, capsys, fragment, "--data", "stl10", "--set", f"root={folder}")
