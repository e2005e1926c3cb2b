"""tiny_imagenet reads a tiny folder that the test writes in the official layout."""
import numpy as np
import pytest
from PIL import Image

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.tiny_imagenet import TinyImageNet
from tests.plugins.dataset_checks import labeled_splits

registry.discover()
WNIDS = ["n02124075", "n01443537", "n04067472", "n09193705"]  # listed unsorted, as wnids.txt is
WORDS = {"n01443537": "goldfish, Carassius auratus", "n02124075": "Egyptian cat",
         "n04067472": "reel", "n09193705": "alp"}


def _image(rng, label):
    """64x64 noise around a colour of its own per class (so a decoded JPEG tells its class)."""
    base = np.array([40 + 60 * label, 200 - 50 * label, 120], np.int16)
    return np.clip(base + rng.integers(-20, 21, (64, 64, 3)), 0, 255).astype(np.uint8)


def write_tiny_imagenet(root, per_class=5, n_val=10, words=True, seed=0):
    """-> (train labels by sorted wnid, val labels in val_annotations order); JPEG files."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    (root / "wnids.txt").write_text("\n".join(WNIDS) + "\n")
    if words:
        (root / "words.txt").write_text("".join(f"{w}\t{n}\n" for w, n in WORDS.items()) + "n00000001\tentity\n")
    order = sorted(WNIDS)
    for label, wnid in enumerate(order):
        folder = root / "train" / wnid / "images"
        folder.mkdir(parents=True)
        (root / "train" / wnid / f"{wnid}_boxes.txt").write_text("")
        for i in range(per_class):
            Image.fromarray(_image(rng, label)).save(folder / f"{wnid}_{i}.JPEG", quality=95)
    (root / "val" / "images").mkdir(parents=True)
    rows, val_labels = [], []
    for i in range(n_val):
        label = i % len(order)
        Image.fromarray(_image(rng, label)).save(root / "val" / "images" / f"val_{i}.JPEG", quality=95)
        rows.append(f"val_{i}.JPEG\t{order[label]}\t0\t0\t63\t63")
        val_labels.append(label)
    (root / "val" / "val_annotations.txt").write_text("\n".join(rows) + "\n")
    (root / "test" / "images").mkdir(parents=True)  # the official unlabeled test folder, unused
    return np.repeat(np.arange(len(order)), per_class), np.asarray(val_labels)


def _label_of(images):
    """The class a decoded image's mean colour says (inverse of _image's base colour)."""
    return np.rint((images[..., 0].mean(axis=(1, 2)) - 40) / 60).astype(int)


def test_train_and_val_splits_with_labels_and_names(tmp_path):
    train_y, val_y = write_tiny_imagenet(tmp_path / "tiny-imagenet-200")
    ds = registry.create_dataset("tiny_imagenet", {"root": str(tmp_path), "image_size": 32}, tmp_path / "cache")
    train, test, _ = labeled_splits(ds, 20, 10, 32, train_y, val_y)
    np.testing.assert_array_equal(_label_of(train.images), train_y)
    np.testing.assert_array_equal(_label_of(test.images), val_y)
    assert train.classes == ["goldfish", "Egyptian cat", "reel", "alp"]


def test_without_words_the_classes_are_wnids_and_size_64_is_kept(tmp_path):
    write_tiny_imagenet(tmp_path, words=False)
    split = TinyImageNet(root=str(tmp_path), image_size=64).split("test")
    assert split.classes == sorted(WNIDS) and split.images.shape == (10, 64, 64, 3)


def test_val_sorted_into_wnid_folders(tmp_path):
    _, val_y = write_tiny_imagenet(tmp_path)
    for line in (tmp_path / "val" / "val_annotations.txt").read_text().splitlines():
        name, wnid = line.split("\t")[:2]
        (tmp_path / "val" / wnid).mkdir(exist_ok=True)
        (tmp_path / "val" / "images" / name).rename(tmp_path / "val" / wnid / name)
    (tmp_path / "val" / "val_annotations.txt").unlink()
    (tmp_path / "val" / "images").rmdir()
    split = TinyImageNet(root=str(tmp_path), image_size=16).split("test")
    assert len(split) == 10 and sorted(split.labels.tolist()) == sorted(val_y.tolist())
    np.testing.assert_array_equal(_label_of(split.images), split.labels)


def test_corrupt_images_are_skipped_and_counted(tmp_path):
    write_tiny_imagenet(tmp_path)
    bad = tmp_path / "train" / sorted(WNIDS)[1] / "images" / f"{sorted(WNIDS)[1]}_2.JPEG"
    bad.write_bytes(bad.read_bytes()[:100])
    (tmp_path / "val" / "images" / "val_3.JPEG").write_bytes(b"not a jpeg")
    ds = TinyImageNet(root=str(tmp_path), image_size=16, cache_dir=tmp_path / "cache")
    ds.check()
    train, test = ds.split("train"), ds.split("test")
    assert (len(train), train.skipped) == (19, 1) and (len(test), test.skipped) == (9, 1)
    np.testing.assert_array_equal(_label_of(train.images), train.labels)


def test_unlabeled_holds_no_val_image_not_even_a_copy(tmp_path):
    write_tiny_imagenet(tmp_path)
    copy = tmp_path / "train" / min(WNIDS) / "images" / "copy_of_val_0.JPEG"
    copy.write_bytes((tmp_path / "val" / "images" / "val_0.JPEG").read_bytes())
    ds = TinyImageNet(root=str(tmp_path), image_size=16)
    test = {r.tobytes() for r in ds.split("test").images}
    for name in ("unlabeled", "train"):  # label-using methods pre-train on train
        split = ds.split(name)
        assert len(split) == 20 and split.skipped == 1 and not {r.tobytes() for r in split.images} & test


def test_declares_citation():
    entry = registry.get("dataset", "tiny_imagenet")
    assert "Le & Yang" in entry.cls.citation and "2015" in entry.cls.citation


# --- bad input: one sentence each ------------------------------------------------------------
@pytest.mark.parametrize("breaks,message", [
    (lambda r: (r / "wnids.txt").unlink(), "wnids.txt is missing"),
    (lambda r: (r / "wnids.txt").write_text("\n\n"), "wnids.txt lists no WordNet ids"),
    (lambda r: (r / "wnids.txt").write_text("\n".join(WNIDS + ["n99999999"])),
     "train/n99999999 is missing or has no images"),
    (lambda r: (r / "val" / "val_annotations.txt").unlink(), "val_annotations.txt is missing"),
    (lambda r: (r / "val" / "val_annotations.txt").write_text("val_0.JPEG\tn12345678\t0\t0\t1\t1\n"),
     "line 1 of .*val_annotations.txt names 'n12345678', which wnids.txt does not list"),
    (lambda r: (r / "val" / "val_annotations.txt").write_text("val_0.JPEG n01443537\n"),
     "line 1 of .*val_annotations.txt is not 'file name<TAB>wnid<TAB>box'"),
    (lambda r: (r / "val" / "images" / "val_7.JPEG").unlink(),
     r"1 of the 10 files that .*val_annotations.txt lists are not in .*images \(the first is val_7.JPEG\)"),
])
def test_broken_layouts(tmp_path, breaks, message):
    write_tiny_imagenet(tmp_path)
    breaks(tmp_path)
    with pytest.raises(DataError, match=message) as e:
        TinyImageNet(root=str(tmp_path), image_size=16).check()
    assert "\n" not in str(e.value) and ". " not in str(e.value)


def test_no_readable_image_at_all(tmp_path):
    write_tiny_imagenet(tmp_path, per_class=1)
    for p in (tmp_path / "train").rglob("*.JPEG"):
        p.write_bytes(b"")
    with pytest.raises(DataError, match="none of the 4 train image files"):
        TinyImageNet(root=str(tmp_path)).check()
