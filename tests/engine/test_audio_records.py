"""clip+audio splits in the data layer: waveforms cached beside the frames through the record
cache, (N, L) int16 memory maps, sample rate stated, damaged soundtracks rebuilt, image and
clip consumers read the frames."""
import numpy as np
import pytest

from engine.capabilities import SampleKind
from engine.data.audio_cache import audio_files
from engine.data.chunks import Chunk, SplitSpec
from engine.data.dataset import DataError, DatasetPlugin, Split
from engine.data.frames import as_input


class Tones(DatasetPlugin):
    id = "tones_test"
    sample_kind = SampleKind.CLIP_AUDIO
    splits = ("train",)
    calls = 0

    def split_spec(self, name):
        return SplitSpec(5, (2, 4, 4, 3), ("a", "b"), True, audio_samples=100)

    def iter_split(self, name, start=0):
        type(self).calls += 1
        for i in range(start, 5):
            clip = np.full((1, 2, 4, 4, 3), i, np.uint8)
            audio = (np.sin(np.arange(100) * (i + 1) / 10) * 1000).astype(np.int16)[None]
            yield Chunk(clip, np.array([i % 2]), audio=audio)


def test_audio_is_cached_beside_the_frames_with_its_rate(tmp_path):
    ds = Tones(tmp_path, sample_rate=8000)
    s = ds.split("train")
    assert s.kind == SampleKind.CLIP_AUDIO and s.sample_rate == 8000
    assert isinstance(s.audio.base, np.memmap) or isinstance(s.audio, np.memmap)
    assert s.audio.shape == (5, 100) and s.audio.dtype == np.int16
    assert np.array_equal(s.audio[3], (np.sin(np.arange(100) * 4 / 10) * 1000).astype(np.int16))
    d = ds.describe()
    assert d["sample_rate"] == 8000 and d["audio_samples"] == 100 and d["sample_kind"] == "clip+audio"
    in_memory = Tones(None, sample_rate=8000).split("train")
    assert np.array_equal(in_memory.audio, s.audio)


def test_a_damaged_soundtrack_is_rebuilt(tmp_path):
    Tones(tmp_path, sample_rate=8000).split("train")
    stem = next(tmp_path.glob("datasets/*-train.json")).with_suffix("")
    rec = audio_files(type("F", (), {"stem": stem})()).records  # the soundtrack's records file
    assert rec.exists()
    rec.write_bytes(rec.read_bytes()[:-10])
    again = Tones(tmp_path, sample_rate=8000).split("train")
    assert again.audio.shape == (5, 100)


def test_consumers_read_the_frames_and_splits_check_audio():
    ds = Tones(None, sample_rate=8000)
    assert as_input(ds, SampleKind.CLIP) is ds
    frames = as_input(ds, SampleKind.IMAGE).split("train")
    assert frames.images.shape == (10, 4, 4, 3) and frames.audio is None
    with pytest.raises(DataError, match="sample rate"):
        Split(np.zeros((2, 2, 4, 4, 3), np.uint8), audio=np.zeros((2, 10), np.int16))
    with pytest.raises(DataError, match="int16"):
        Split(np.zeros((2, 2, 4, 4, 3), np.uint8), audio=np.zeros((3, 10), np.int16), sample_rate=8000)
