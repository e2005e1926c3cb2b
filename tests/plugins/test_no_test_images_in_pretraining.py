"""Pre-training never sees an evaluation test image, for every registered dataset: the split
the trainer pre-trains on and the test split share no image (rows compared by hash)."""
from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from engine import registry
from engine.training.trainer import pretrain_split_name
from tests.plugins.test_dataset_cifar import write_cifar10, write_cifar100
from tests.plugins.test_dataset_imagenet_folders import write_imagenet
from tests.plugins.test_dataset_mnist import write_mnist
from tests.plugins.test_dataset_stl10 import write_stl
from tests.plugins.test_dataset_svhn import write_svhn
from tests.plugins.test_dataset_tiny_imagenet import write_tiny_imagenet

registry.discover()


def _noise_folder(root, classes=("a", "b", "c"), per_class=6, flat=False):
    """Distinct random images, one sub-folder per class (or all directly in root)."""
    rng = np.random.default_rng(0)
    for c in classes:
        folder = root if flat else root / c
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8)).save(folder / f"{c}{i}.png")
    return str(root)


def _folder_labeled(tmp):
    return {"root": _noise_folder(tmp / "photos"), "image_size": 12, "test_fraction": 0.3}


def _folder_eval_root_is_root(tmp):
    root = _noise_folder(tmp / "photos")
    return {"root": root, "eval_root": root, "image_size": 12, "test_fraction": 0.3}




def _folder_copies_of_eval_root(tmp):
    """An unlabeled root that also holds copies of eval_root's images (same file names)."""
    ev = tmp / "eval"
    _noise_folder(ev)
    flat = tmp / "flat"
    flat.mkdir()
    for p in ev.rglob("*.png"):
        (flat / p.name).write_bytes(p.read_bytes())
    return {"root": str(flat), "eval_root": str(ev), "image_size": 12, "test_fraction": 0.3}


def _video_folder(tmp):
    from tests.plugins.test_dataset_video_folder import write_video

    for c, cls in enumerate(("a", "b")):
        (tmp / "videos" / cls).mkdir(parents=True)
        for i in range(3):
            write_video(tmp / "videos" / cls / f"{i}.mp4", seconds=0.5, size=16, shade=40 * i + c)
    return {"root": str(tmp / "videos"), "image_size": 12, "frames": 2, "test_fraction": 0.34}


from tests.plugins.sound_files import sound_folder  # noqa: E402

FIXTURES = {  # dataset id -> [params writer(tmp_path) ...]; every registered dataset needs one
    "shapes": [lambda tmp: {"image_size": 16, "train_size": 60, "test_size": 24}],
    "digits": [lambda tmp: {"image_size": 8}],
    "cifar10": [lambda tmp: (write_cifar10(tmp / "c10"), {"root": str(tmp / "c10")})[1]],
    "cifar100": [lambda tmp: (write_cifar100(tmp / "c100"), {"root": str(tmp / "c100")})[1]],
    "stl10": [lambda tmp: (write_stl(tmp / "stl"), {"root": str(tmp / "stl"), "image_size": 32})[1]],
    "folder": [_folder_labeled, _folder_eval_root_is_root, _folder_copies_of_eval_root],
    "mnist": [lambda tmp: (write_mnist(tmp / "MNIST" / "raw"), {"root": str(tmp)})[1]],
    "fashion_mnist": [lambda tmp: (write_mnist(tmp, gz=True), {"root": str(tmp)})[1]],
    "svhn": [lambda tmp: (write_svhn(tmp, n_extra=5), {"root": str(tmp), "extra": True})[1]],
    "tiny_imagenet": [lambda tmp: (write_tiny_imagenet(tmp / "tiny-imagenet-200"), {"root": str(tmp), "image_size": 16})[1]],
    "imagenet_folders": [lambda tmp: (write_imagenet(tmp / "in"), {"root": str(tmp / "in"), "image_size": 12})[1],
                         lambda tmp: (write_imagenet(tmp / "in", flat_val=True),
                                      {"root": str(tmp / "in"), "image_size": 12})[1]],
    "kmnist": [lambda tmp: (write_mnist(tmp / "KMNIST" / "raw", gz=True), {"root": str(tmp)})[1]],
    "moving_shapes": [lambda tmp: {"image_size": 16, "frames": 3, "train_size": 24, "test_size": 12}],
    "video_folder": [_video_folder],
    "sounding_shapes": [lambda tmp: {"image_size": 16, "frames": 3, "train_size": 24, "test_size": 12,
                                     "sample_rate": 4000}],
    "sounding_video_folder": [lambda tmp: (_sounding_videos(tmp / "videos"),
                                           {"root": str(tmp / "videos"), "image_size": 16, "frames": 4, "fps": 4.0,
                                            "sample_rate": 8000, "test_fraction": 0.25})[1]],
    # sounds only: no method pre-trains on it (test_dataset_sound_folder), but the audio probe
    # fits on train and reads test, so the two must not share a sound either
    "sound_folder": [lambda tmp: (sound_folder(tmp / "sounds", per_class=4),
                                  {"root": str(tmp / "sounds"), "sample_rate": 8000, "seconds": 0.5,
                                   "test_fraction": 0.25})[1]],
}
CASES = [(i, k) for i, writers in FIXTURES.items() for k in range(len(writers))]


def _hashes(images) -> set:
    return {hashlib.sha1(np.ascontiguousarray(row).tobytes()).hexdigest() for row in images}


def _sounding_videos(root):
    from tests.plugins.test_dataset_sounding_video_folder import write_video

    for c, (cls, freq) in enumerate((("low", 300.0), ("high", 2000.0))):
        (root / cls).mkdir(parents=True)
        for k in range(4):  # every video its own grey levels: test copies are told by their pixels
            write_video(root / cls / f"v{k}.mp4", freq + 10 * k, seconds=1.5, shade=7 * k + 3 * c)


def test_every_dataset_has_a_leak_fixture():
    assert {e.id for e in registry.entries("dataset")} <= set(FIXTURES)


@pytest.mark.parametrize("data_id,k", CASES)
def test_the_pretraining_split_holds_no_test_image(tmp_path, data_id, k):
    params = registry.resolve_params("dataset", data_id, FIXTURES[data_id][k](tmp_path))
    dataset = registry.create_dataset(data_id, params, tmp_path / "cache")
    dataset.check()
    if "test" not in dataset.splits:
        return
    if dataset.split("test").images is None:
        train, test = dataset.split("train"), dataset.split("test")
        assert len(train) and len(test) and not _hashes(train.audio) & _hashes(test.audio)
        return
    pretrain = dataset.split(pretrain_split_name(dataset, registry.get("method", "simclr").cls))
    test = dataset.split("test")
    assert len(pretrain) and len(test)
    assert not _hashes(pretrain.images) & _hashes(test.images)
    if "train" in dataset.splits:  # what label-using methods pre-train on
        assert not _hashes(dataset.split("train").images) & _hashes(test.images)
