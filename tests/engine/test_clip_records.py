"""Clips in the data layer: (N, T, H, W, 3) records go through the same cache and batch path
as images, and a clip dataset reads as its frames for image consumers."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.capabilities import SampleKind, data_mismatch
from engine.data.chunks import Chunk, SplitSpec
from engine.data.dataset import DataError, DatasetPlugin, Split
from engine.data.frames import FramesOf, as_input, clip_of_frame, frames_view
from engine.data.tensors import images_to_tensor, tensor_to_images
from engine.training.batch_source import BatchSource

N, T = 10, 4


class Clips(DatasetPlugin):
    id = "clips_record_test"
    sample_kind = SampleKind.CLIP
    target_classes = {"motion_labels": ("still", "moving")}

    def split_spec(self, name):
        return SplitSpec(N, (T, 6, 5, 3), ("a", "b"), labeled=True)

    def iter_split(self, name, start=0):
        rng = np.random.default_rng(0)
        clips = rng.integers(0, 256, (N, T, 6, 5, 3), dtype=np.uint8)
        for i in range(start, N, 3):
            yield Chunk(clips[i:i + 3], np.arange(i, min(i + 3, N)) % 2)

    def extra_labels(self, name):
        return {"motion_labels": np.arange(N) % 2 == 0}


def test_clip_split_is_cached_as_a_memory_map(tmp_path):
    split = Clips(tmp_path).split("train")
    assert isinstance(split.images, np.memmap) and split.images.shape == (N, T, 6, 5, 3)
    assert split.kind == SampleKind.CLIP and split.targets["motion_labels"].dtype == np.int64
    again = Clips(tmp_path).split("train")  # read back from the cache
    assert np.array_equal(again.images, split.images) and np.array_equal(again.labels, split.labels)


def test_split_shapes_are_checked():
    Split(np.zeros((2, 4, 4, 3), np.uint8))
    Split(np.zeros((2, 3, 4, 4, 3), np.uint8))
    with pytest.raises(DataError):
        Split(np.zeros((2, 1, 3, 4, 4, 3), np.uint8))
    with pytest.raises(DataError):
        Split(np.zeros((2, 4, 4, 3), np.uint8), targets={"m": np.zeros(3, np.int64)})


def test_frames_view_repeats_labels(tmp_path):
    split = Clips(tmp_path).split("train")
    frames = frames_view(split)
    assert frames.images.shape == (N * T, 6, 5, 3) and isinstance(frames.images, np.memmap)
    assert np.array_equal(frames.images[T + 1], split.images[1, 1])
    assert np.array_equal(frames.labels, np.repeat(split.labels, T))
    assert np.array_equal(frames.targets["motion_labels"], np.repeat(split.targets["motion_labels"], T))
    assert list(clip_of_frame(np.array([0, T - 1, T, 2 * T + 1]), T)) == [0, 0, 1, 2]


def test_image_consumers_read_clip_datasets_as_frames(tmp_path):
    ds = Clips(tmp_path)
    assert as_input(ds, SampleKind.CLIP) is ds
    frames = as_input(ds, SampleKind.IMAGE)
    assert isinstance(frames, FramesOf) and frames.split("test").images.shape == (N * T, 6, 5, 3)

    class ImageMethod:
        input_kind = SampleKind.IMAGE

    class ClipMethod:
        input_kind = SampleKind.CLIP

    class Images:
        sample_kind = SampleKind.IMAGE

    assert data_mismatch(ImageMethod, Clips) is None
    assert data_mismatch(ClipMethod, Clips) is None
    assert "not clip" in data_mismatch(ClipMethod, Images)


def test_clip_tensors_are_channels_first_per_frame(tmp_path):
    split = Clips(tmp_path).split("train")
    x = images_to_tensor(split.images)
    assert x.shape == (N, T, 3, 6, 5)
    assert np.array_equal(tensor_to_images(x), np.asarray(split.images))


def test_streamed_clip_batches_equal_held_ones(tmp_path):
    split = Clips(tmp_path).split("train")
    cpu = torch.device("cpu")
    held = BatchSource(images_to_tensor(split.images), None, cpu, batch_size=4, seed=1)
    streamed = BatchSource(split.images, None, cpu, batch_size=4, seed=1)
    assert streamed.streamed
    for step in range(3):
        a, b = held.batch(step)[0], streamed.batch(step)[0]
        assert a.shape == (4, T, 3, 6, 5) and torch.equal(a, b)


def test_channels_last_takes_clip_backbones_3d_convolutions():
    from engine import registry
    from engine.training.model_setup import to_channels_last

    registry.discover()
    net = registry.create_backbone("r2plus1d", {"width": 8, "factorized": False}, 16)
    to_channels_last(net)  # a 5-D weight refuses torch.channels_last itself
    weight = next(p for p in net.parameters() if p.dim() == 5)
    assert weight.is_contiguous(memory_format=torch.channels_last_3d)
    assert net(torch.randn(2, 4, 3, 16, 16)).shape == (2, net.num_features)
