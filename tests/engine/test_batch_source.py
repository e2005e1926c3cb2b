"""Batches streamed from the dataset cache are the batches of the split held in memory:
same rows, same order, from any step on, and the reading happens in a background thread."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.chunks import Chunk, SplitSpec
from engine.data.dataset import DatasetPlugin
from engine.data.record_reader import RecordReader
from engine.data.tensors import images_to_tensor
from engine.training.batch_source import BatchSource

N = 50


class Noise(DatasetPlugin):
    id = "noise_batch_test"

    def split_spec(self, name):
        return SplitSpec(N, (6, 5, 3), labeled=False)

    def iter_split(self, name, start=0):
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (N, 6, 5, 3), dtype=np.uint8)
        for i in range(start, N, 7):
            yield Chunk(images[i:i + 7])


@pytest.fixture
def cached(tmp_path):
    images = Noise(tmp_path).split("unlabeled").images
    assert isinstance(images, np.memmap)
    return images


def test_streamed_batches_equal_the_in_memory_ones(cached):
    cpu = torch.device("cpu")
    held = BatchSource(images_to_tensor(cached), None, cpu, batch_size=8, seed=4)
    streamed = BatchSource(cached, None, cpu, batch_size=8, seed=4)
    assert streamed.streamed and streamed.images is None and not held.streamed
    for step in [*range(9), 3, 20, 21, 2]:  # across epochs; a resume jumps to any step
        x, _ = streamed.batch(step)
        assert x.shape == (8, 3, 6, 5) and x.is_contiguous() and torch.equal(x, held.batch(step)[0])


def test_ranks_stream_their_slice_of_the_global_batch(cached):
    cpu = torch.device("cpu")
    whole = BatchSource(cached, None, cpu, batch_size=8, seed=1)
    ranks = [BatchSource(cached, None, cpu, batch_size=4, seed=1, rank=r, world=2) for r in (0, 1)]
    for step in range(8):
        assert torch.equal(whole.batch(step)[0], torch.cat([r.batch(step)[0] for r in ranks]))


def test_the_reader_uses_positioned_reads_not_the_mapping(cached, monkeypatch):
    reader = RecordReader(cached)
    assert reader._fd is not None
    monkeypatch.setattr(np, "take", lambda *a, **k: pytest.fail("gathered through the memory map"))
    out = reader.gather(np.array([7, 0, 49, 7]), np.empty((4, 6, 5, 3), np.uint8))
    np.testing.assert_array_equal(out, np.asarray(cached)[[7, 0, 49, 7]])


def test_a_read_error_reaches_the_training_thread(cached, monkeypatch):
    source = BatchSource(cached, None, torch.device("cpu"), batch_size=8, seed=0)

    def broken(self, idx, out):
        raise OSError("the disk went away")

    monkeypatch.setattr(RecordReader, "gather", broken)
    with pytest.raises(OSError, match="the disk went away"):
        source.batch(0)
