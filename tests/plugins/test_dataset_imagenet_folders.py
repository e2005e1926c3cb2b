"""imagenet_folders reads train/<class>/ plus a val/ folder (sorted by class, or flat with a
labels CSV) that the test writes."""
import numpy as np
import pytest
from PIL import Image

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.imagenet_folders import ImageNetFolders
from tests.plugins.dataset_checks import labeled_splits

registry.discover()
CLASSES = ["n01440764", "n01443537", "zebra"]


def _image(rng, label):
    """24x24 noise around a colour of its own per class, so a decoded image tells its class."""
    base = np.array([40 + 80 * label, 120, 200 - 80 * label], np.int16)
    return np.clip(base + rng.integers(-20, 21, (24, 24, 3)), 0, 255).astype(np.uint8)


def write_imagenet(root, per_class=7, n_val=10, flat_val=False, csv_in="root", header=True, seed=0):
    """-> (train labels, val labels in the order the plugin lists them)."""
    rng = np.random.default_rng(seed)
    for label, name in enumerate(CLASSES):
        (root / "train" / name).mkdir(parents=True)
        for i in range(per_class):
            Image.fromarray(_image(rng, label)).save(root / "train" / name / f"{name}_{i}.jpg", quality=95)
    rows, val_labels = [], []
    for i in range(n_val):
        label = i % len(CLASSES)
        folder = root / "val" if flat_val else root / "val" / CLASSES[label]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(_image(rng, label)).save(folder / f"val_{i:02d}.JPEG", quality=95)
        rows.append(f"val_{i:02d}.JPEG,{CLASSES[label]}")
        val_labels.append(label)
    if flat_val:
        table = root / "val_labels.csv" if csv_in == "root" else root / "val" / "val_labels.csv"
        table.write_text(("filename,label\n" if header else "") + "\n".join(rows) + "\n")
    else:
        val_labels = sorted(val_labels)  # listed class by class
    return np.repeat(np.arange(len(CLASSES)), per_class), np.asarray(val_labels)


def _label_of(images):
    return np.rint((images[..., 0].mean(axis=(1, 2)) - 40) / 80).astype(int)


@pytest.mark.parametrize("flat_val,csv_in,header", [(False, None, None), (True, "root", True), (True, "val", False)])
def test_train_and_val_with_labels(tmp_path, flat_val, csv_in, header):
    train_y, val_y = write_imagenet(tmp_path / "imagenet", flat_val=flat_val, csv_in=csv_in, header=header)
    ds = registry.create_dataset("imagenet_folders", {"root": str(tmp_path / "imagenet"), "image_size": 16},
                                 tmp_path / "cache")
    train, test, _ = labeled_splits(ds, 21, 10, 16, train_y, val_y)
    np.testing.assert_array_equal(_label_of(test.images), val_y)
    assert train.classes == CLASSES == test.classes


def test_max_per_class_keeps_the_first_of_each_class(tmp_path):
    write_imagenet(tmp_path)
    split = ImageNetFolders(root=str(tmp_path), image_size=8, max_per_class=2).split("train")
    assert split.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert len(ImageNetFolders(root=str(tmp_path), image_size=8, max_per_class=2).split("test")) == 10


def test_corrupt_files_are_skipped_and_counted(tmp_path):
    write_imagenet(tmp_path, flat_val=True)
    (tmp_path / "train" / "zebra" / "zebra_3.jpg").write_bytes(b"\xff\xd8 broken")
    (tmp_path / "val" / "val_04.JPEG").write_bytes(b"")
    ds = ImageNetFolders(root=str(tmp_path), image_size=8, cache_dir=tmp_path / "cache")
    train, test = ds.split("train"), ds.split("test")
    assert (len(train), train.skipped, len(test), test.skipped) == (20, 1, 9, 1)
    np.testing.assert_array_equal(_label_of(test.images), test.labels)


def test_unlabeled_holds_no_val_image_not_even_a_copy(tmp_path):
    write_imagenet(tmp_path)
    (tmp_path / "train" / "zebra" / "copy.jpg").write_bytes(next((tmp_path / "val" / "zebra").iterdir()).read_bytes())
    ds = ImageNetFolders(root=str(tmp_path), image_size=8)
    pre, test = ds.split("unlabeled"), ds.split("test")
    assert pre.skipped == 1 and not {r.tobytes() for r in pre.images} & {r.tobytes() for r in test.images}


# --- bad input: one sentence each ------------------------------------------------------------
def _flat(root):
    write_imagenet(root, flat_val=True)
    return root / "val_labels.csv"


@pytest.mark.parametrize("breaks,message", [
    (lambda r: [p.unlink() for p in (r / "train").rglob("*.jpg")], "train is missing or has no class sub-folders"),
    (lambda r: (r / "val_labels.csv").unlink(), "val has no class sub-folders and there is no val_labels.csv"),
    (lambda r: (r / "val_labels.csv").write_text("filename,label\nval_00.JPEG,okapi\n"),
     "line 2 of .*val_labels.csv names class 'okapi', which has no folder in train/"),
    (lambda r: (r / "val_labels.csv").write_text("val_00.JPEG\n"), "line 1 of .*val_labels.csv is not 'filename,label'"),
    (lambda r: (r / "val_labels.csv").write_text("filename,label\n"), "val_labels.csv has no 'filename,label' rows"),
    (lambda r: (r / "val" / "val_05.JPEG").unlink(),
     r"1 of the 10 files that .*val_labels.csv lists are not in .*val \(the first is val_05.JPEG\)"),
])
def test_broken_flat_layouts(tmp_path, breaks, message):
    _flat(tmp_path)
    breaks(tmp_path)
    with pytest.raises(DataError, match=message) as e:
        ImageNetFolders(root=str(tmp_path)).check()
    assert "\n" not in str(e.value) and ". " not in str(e.value)


def test_val_class_unknown_to_train_and_missing_val(tmp_path):
    write_imagenet(tmp_path)
    (tmp_path / "val" / "zebra").rename(tmp_path / "val" / "okapi")
    with pytest.raises(DataError, match=r"val has class folders that train/ lacks \(okapi\)"):
        ImageNetFolders(root=str(tmp_path)).check()
    for p in (tmp_path / "val").rglob("*"):
        if p.is_file():
            p.unlink()
    for p in sorted((tmp_path / "val").iterdir()):
        p.rmdir()
    (tmp_path / "val").rmdir()
    with pytest.raises(DataError, match="val is missing; imagenet_folders takes its test split from val/"):
        ImageNetFolders(root=str(tmp_path)).check()


def test_declares_citation():
    entry = registry.get("dataset", "imagenet_folders")
    assert "Russakovsky" in entry.cls.citation and all(p.help for p in entry.schema)


def test_train_also_drops_copies_of_val_images(tmp_path):
    write_imagenet(tmp_path)
    (tmp_path / "train" / "zebra" / "copy.jpg").write_bytes(next((tmp_path / "val" / "zebra").iterdir()).read_bytes())
    ds = ImageNetFolders(root=str(tmp_path), image_size=8)
    train, test = ds.split("train"), ds.split("test")
    assert (len(train), train.skipped) == (21, 1)
    assert not {r.tobytes() for r in train.images} & {r.tobytes() for r in test.images}
