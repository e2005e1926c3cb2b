"""folder reads image files that the test writes with Pillow, in many modes and formats."""
import numpy as np
import pytest
from PIL import Image

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.folder import ImageFolder

registry.discover()


def _solid(mode, colour, size=(20, 12)):
    return Image.new(mode, size, colour)


def make_labeled(root, per_class=5, classes=("cats", "dogs é")):
    """Valid images in several modes and formats, one sub-folder per class."""
    writers = [
        lambda p: _solid("RGB", (200, 30, 30)).save(p.with_suffix(".jpg"), quality=95),
        lambda p: _solid("L", 90).save(p.with_suffix(".png")),
        lambda p: _solid("P", 3).save(p.with_suffix(".gif")),
        lambda p: _solid("RGB", (10, 200, 10)).save(p.with_suffix(".bmp")),
        lambda p: _solid("RGB", (10, 10, 200)).save(p.with_suffix(".webp")),
    ]
    for c in classes:
        folder = root / c / "nested dir"
        folder.mkdir(parents=True)
        for i in range(per_class):
            writers[i % len(writers)](folder / f"img {i}")


def test_modes_are_converted_to_rgb(tmp_path):
    root = tmp_path / "imgs"
    root.mkdir()
    rgba = Image.new("RGBA", (16, 16), (255, 0, 0, 0))  # fully transparent red -> white
    rgba.paste((0, 0, 255, 255), (0, 0, 16, 8))          # opaque blue top half
    rgba.save(root / "a_rgba.png")
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(root / "b_cmyk.jpg")  # red in CMYK
    Image.new("L", (16, 16), 128).save(root / "c_gray.png")
    pal = Image.new("P", (16, 16), 1)
    pal.putpalette([0, 0, 0, 0, 255, 0] + [0] * 762)
    pal.save(root / "d_palette.png")
    Image.fromarray(np.full((16, 16), 65535, np.uint16)).save(root / "e_16bit.png")
    Image.new("LA", (16, 16), (0, 0)).save(root / "f_la.png")  # transparent black -> white
    split = ImageFolder(root=str(root), image_size=16).split("unlabeled")
    x = split.images.astype(int)
    assert split.images.shape == (6, 16, 16, 3) and split.images.dtype == np.uint8 and split.skipped == 0
    assert (x[0, :6] == [0, 0, 255]).all() and (x[0, 10:] == 255).all()
    assert x[1, 8, 8, 0] > 200 and x[1, 8, 8, 1:].max() < 60
    assert (abs(x[2] - 128) <= 1).all()
    assert (x[3] == [0, 255, 0]).all()
    assert (x[4] == 255).all()
    assert (x[5] == 255).all()


def test_centre_crop_to_square(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    img = np.zeros((20, 40, 3), np.uint8)
    img[:, :10] = 255  # white left quarter is cropped away by the centre square
    img[:, 30:] = 255
    Image.fromarray(img).save(root / "wide.png")
    out = ImageFolder(root=str(root), image_size=20).split("unlabeled").images[0]
    assert out.shape == (20, 20, 3) and out.max() == 0


def test_labeled_root_split_and_classes(tmp_path):
    root = tmp_path / "my photos é"
    make_labeled(root, per_class=5)
    ds = registry.create_dataset("folder", {"root": str(root), "image_size": 16, "test_fraction": 0.4},
                                 tmp_path / "cache")
    ds.check()
    assert ds.has_labels and ds.splits == ("unlabeled", "train", "test")
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert train.classes == ["cats", "dogs é"]
    assert unlabeled.labels is None and 0 < len(unlabeled) <= 6  # train's files, less copies of test images
    assert len(train) == 6 and len(test) == 4
    assert sorted(test.labels.tolist()) == [0, 0, 1, 1] and train.labels.dtype == np.int64
    assert train.images.shape[1:] == (16, 16, 3)
    again = registry.create_dataset("folder", {"root": str(root), "image_size": 16, "test_fraction": 0.4},
                                    tmp_path / "cache")
    np.testing.assert_array_equal(again.split("test").images, test.images)  # from the cache, same split


def test_unreadable_files_are_skipped_and_counted(tmp_path):
    root = tmp_path / "with bad"
    make_labeled(root, per_class=3)
    bad = root / "cats"
    good = bad / "good.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(good)
    (bad / "truncated.jpg").write_bytes(good.read_bytes()[: len(good.read_bytes()) // 3])
    (bad / "empty.png").write_bytes(b"")
    (bad / "text.png").write_text("this is not an image")
    ds = ImageFolder(root=str(root), image_size=16, test_fraction=0.2, seed=0)
    ds.check()
    unlabeled = ds.split("unlabeled")
    train, test = ds.split("train"), ds.split("test")  # each split counts the files it left out
    assert train.skipped + test.skipped == 3 and len(train) + len(test) == 7
    # unlabeled is train's files; it also leaves out (and counts) copies of test images
    assert unlabeled.skipped >= train.skipped and len(unlabeled) + unlabeled.skipped == len(train) + train.skipped


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_decompression_bombs_are_skipped(tmp_path, monkeypatch):
    root = tmp_path / "bombs"
    root.mkdir()
    Image.new("RGB", (30, 30)).save(root / "ok.png")
    Image.new("1", (40, 40)).save(root / "warns.png")   # 1600 px: above the limit, Pillow only warns
    Image.new("1", (100, 100)).save(root / "raises.png")  # 10000 px: over twice it, Pillow raises
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    ds = ImageFolder(root=str(root), image_size=16)
    ds.check()
    split = ds.split("unlabeled")
    assert len(split) == 1 and split.skipped == 2


def test_unlabeled_root_has_only_the_unlabeled_split(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for i in range(3):
        Image.new("RGB", (8, 8), (i * 50, 0, 0)).save(root / f"{i}.png")
    (root / "notes.txt").write_text("ignored")
    (root / "empty sub").mkdir()
    ds = registry.create_dataset("folder", {"root": str(root), "image_size": 8})
    ds.check()
    assert not ds.has_labels and ds.splits == ("unlabeled",)
    assert len(ds.split("unlabeled")) == 3
    with pytest.raises(DataError, match="no 'train' split"):
        ds.split("train")


def test_eval_root_gives_train_and_test(tmp_path):
    root, ev = tmp_path / "pool", tmp_path / "eval"
    root.mkdir()
    for i in range(4):
        Image.new("RGB", (8, 8), (0, i * 40, 0)).save(root / f"{i}.png")
    make_labeled(ev, per_class=5)
    ds = ImageFolder(root=str(root), eval_root=str(ev), image_size=8, test_fraction=0.2, seed=1)
    ds.check()
    assert ds.has_labels and len(ds.split("unlabeled")) == 4
    assert len(ds.split("train")) == 8 and len(ds.split("test")) == 2
    assert ds.split("test").classes == ["cats", "dogs é"]


def test_class_mismatch_between_root_and_eval_root_is_named(tmp_path):
    make_labeled(tmp_path / "a", classes=("cats", "dogs", "owls"))
    make_labeled(tmp_path / "b", classes=("cats", "dogs", "bats"))
    ds = ImageFolder(root=str(tmp_path / "a"), eval_root=str(tmp_path / "b"), image_size=8)
    with pytest.raises(DataError, match=r"only in root: owls; only in eval_root: bats"):
        ds.check()


def test_bad_folders_are_clear_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="has no images"):
        ImageFolder(root=str(empty), image_size=8).check()
    with pytest.raises(DataError, match="not a folder or does not exist"):
        ImageFolder(root=str(tmp_path / "missing"), image_size=8).check()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.jpg").write_bytes(b"\xff\xd8 nope")
    (junk / "b.png").write_bytes(b"")
    with pytest.raises(DataError, match=r"none of the 2 image files in root .*junk could be read"):
        ImageFolder(root=str(junk), image_size=8).check()
    single = tmp_path / "single"
    make_labeled(single, per_class=1)
    with pytest.raises(DataError, match="at least two images"):
        ImageFolder(root=str(single), image_size=8).check()


def test_declares_summary_and_param_help():
    cls = registry.get("dataset", "folder").cls
    assert cls.summary and cls.citation and all(p.help for p in cls.params)
    eval_root = next(p for p in cls.params if p.name == "eval_root")
    assert eval_root.kind == "dir" and eval_root.optional
