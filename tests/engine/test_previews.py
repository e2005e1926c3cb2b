"""The workbench's previews, computed by the engine: a dataset's samples and a method's
inputs come back as plain numpy arrays; the augmentations follow the seed and leave the
caller's torch random stream alone."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import registry
from engine.data.dataset import DataError
from engine.data.preview import data_preview
from engine.data.tensors import images_to_tensor, tensor_to_images
from engine.ssl.input_preview import augmentation_preview

DATA = {"train_size": "48", "test_size": "24", "image_size": "16"}


@pytest.fixture(scope="module")
def data_params():
    registry.discover()
    return registry.resolve_params("dataset", "shapes", DATA)


def config(data_params, method="simclr"):
    return {"data": {"id": "shapes", "params": data_params},
            "backbone": {"id": "convnet", "params": registry.resolve_params("backbone", "convnet", {"width": "8"})},
            "method": {"id": method, "params": registry.resolve_params("method", method, {})}}


def test_images_round_trip_through_channel_first_tensors():
    images = np.random.default_rng(0).integers(0, 256, (5, 4, 6, 3), dtype=np.uint8)
    x = images_to_tensor(images[:, ::-1])  # a non-contiguous view is fine
    assert x.shape == (5, 3, 4, 6) and x.dtype == torch.uint8 and x.is_contiguous()
    assert x[2, 1, 3, 5] == images[2, 0, 5, 1]
    assert (tensor_to_images(x) == images[:, ::-1]).all()


def test_data_preview_has_sizes_classes_and_labelled_samples(tmp_path, data_params):
    sample = data_preview(tmp_path, "shapes", data_params, 10)
    assert sample.info["splits"]["train"] == 48 and sample.info["splits"]["test"] == 24 and sample.split == "train"
    assert sample.images.shape == (10, 16, 16, 3) and sample.images.dtype == np.uint8
    assert len(sample.labels) == 10 and set(sample.labels) <= set(sample.info["classes"])
    assert sample.skipped == 0


def test_data_preview_reports_the_caching_of_each_split(tmp_path, data_params):
    seen = []
    data_preview(tmp_path, "shapes", {**data_params, "seed": 7}, 4, progress=lambda *a: seen.append(a))
    assert {note for _, _, note in seen} == {"caching shapes unlabeled", "caching shapes train", "caching shapes test"}
    assert (48, 48, "caching shapes train") in seen and (24, 24, "caching shapes test") in seen


def test_data_preview_of_unreadable_data_raises_its_sentence(tmp_path):
    (tmp_path / "photos").mkdir()  # a folder without images
    with pytest.raises(DataError):
        data_preview(tmp_path, "folder", registry.resolve_params("dataset", "folder", {"root": str(tmp_path / "photos")}))


def test_augmentation_preview_follows_the_seed_and_keeps_the_callers_stream(tmp_path, data_params):
    torch.manual_seed(123)
    expected_next = torch.rand(3)
    torch.manual_seed(123)
    views = augmentation_preview(tmp_path, config(data_params), 6, seed=1)
    assert torch.equal(torch.rand(3), expected_next)
    assert {"original", "view 1", "view 2"} <= set(views)
    for batch in views.values():
        assert isinstance(batch, np.ndarray) and batch.shape == (6, 16, 16, 3)
        assert batch.min() >= 0.0 and batch.max() <= 1.0
    again = augmentation_preview(tmp_path, config(data_params), 6, seed=1)
    other = augmentation_preview(tmp_path, config(data_params), 6, seed=2)
    assert all((again[k] == views[k]).all() for k in views)
    assert (other["original"] == views["original"]).all() and not (other["view 1"] == views["view 1"]).all()
