"""sound_folder: class folders of WAV (16-bit, stdlib wave) and FLAC (PyAV) files become an
``audio`` dataset of fixed-length int16 waveforms at the stated rate, cached like the other
datasets, split by a stratified hold-out; bad files are skipped and counted; an empty folder
or one without readable sound is refused in one sentence; no method pre-trains on it."""
from __future__ import annotations

import numpy as np
import pytest

from engine import registry
from engine.capabilities import SampleKind, data_mismatch
from engine.data.dataset import DataError
from engine.params import ParamError
from plugins.datasets.sound_folder import fixed_length
from tests.plugins.sound_files import sound_folder, write_wav


def _dataset(root, cache=None, **params):
    registry.discover()
    return registry.create_dataset("sound_folder", {"root": str(root), "sample_rate": 8000, "seconds": 0.5,
                                                    "test_fraction": 0.25, **params}, cache)


def test_a_folder_of_wav_and_flac_files_is_an_audio_dataset(tmp_path):
    root = sound_folder(tmp_path / "sounds", per_class=4)
    (root / "low" / "broken.wav").write_bytes(b"RIFF1234WAVEnot a wav")
    (root / "high" / "empty.flac").write_bytes(b"")
    (root / "high" / "notes.txt").write_text("not a sound")
    ds = _dataset(root, tmp_path / "cache")
    ds.check()
    train, test = ds.split("train"), ds.split("test")
    assert train.kind == SampleKind.AUDIO and train.images is None
    assert train.audio.shape[1] == 4000 and train.audio.dtype == np.int16 and train.sample_rate == 8000
    assert len(train) + len(test) == 8 and train.skipped + test.skipped == 2
    assert set(test.labels) == {0, 1} and train.classes == ["high", "low"]
    assert ds.describe()["audio_samples"] == 4000
    again = _dataset(root, tmp_path / "cache").split("train")  # from the cache, the same waveforms
    assert isinstance(again.audio.base, np.memmap) or isinstance(again.audio, np.memmap)
    assert np.array_equal(again.audio, train.audio) and np.array_equal(again.labels, train.labels)
    loud = np.abs(train.audio.astype(np.float32)).max(axis=1)
    assert (loud > 3000).all()  # the sound itself, not silence
    assert len(_dataset(root).split("train")) == len(train)  # without a cache folder too


def test_sounds_are_centre_cropped_or_padded_to_the_stated_length():
    x = np.arange(10, dtype=np.float32) / 10
    assert np.array_equal(fixed_length(x, 2, 2.0, "centre"), (x[3:7] * 32767).astype(np.int16))
    assert np.array_equal(fixed_length(x, 2, 2.0, "start"), (x[:4] * 32767).astype(np.int16))
    padded = fixed_length(x[:3], 2, 2.0, "centre")
    assert len(padded) == 4 and padded[3] == 0


def test_bad_folders_are_refused_in_one_sentence(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="no class sub-folders of sound files"):
        _dataset(tmp_path / "empty").check()
    bad = tmp_path / "bad"
    for cls in ("a", "b"):
        (bad / cls).mkdir(parents=True)
        for k in range(2):
            (bad / cls / f"{k}.wav").write_bytes(b"RIFFxxxxWAVE")
    with pytest.raises(DataError, match="none of the 4 sound files in root could be read") as e:
        _dataset(bad).check()
    assert "\n" not in str(e.value)
    with pytest.raises(ParamError, match="does not exist"):
        _dataset(tmp_path / "missing").check()
    one = tmp_path / "one"
    (one / "a").mkdir(parents=True)
    write_wav(one / "a" / "x.wav", np.zeros(100), 8000)
    with pytest.raises(DataError, match="at least two sound files"):
        _dataset(one).check()


def test_no_method_pretrains_on_sounds_alone():
    registry.discover()
    ds = registry.get("dataset", "sound_folder").cls
    for method in ("simclr", "avc", "shuffle_learn"):
        assert "holds audio samples" in data_mismatch(registry.get("method", method).cls, ds)
