"""sounding_shapes: seeded clip+audio records, one timbre per shape class, struck notes at
the frames where objects bounce."""
import numpy as np

from engine import registry
from engine.capabilities import SampleKind
from plugins.datasets import sounding_shapes, soundtrack

BASE = {"image_size": 16, "frames": 8, "train_size": 20, "test_size": 10, "sample_rate": 8000}


def _dataset(path, **params):
    registry.discover()
    return registry.create_dataset("sounding_shapes", {**BASE, **params}, path)


def test_clips_with_soundtracks_are_seeded_and_cached(tmp_path):
    ds = _dataset(tmp_path / "a")
    s = ds.split("train")
    assert ds.sample_kind == SampleKind.CLIP_AUDIO and s.kind == SampleKind.CLIP_AUDIO
    assert s.images.shape == (20, 8, 16, 16, 3) and s.audio.shape == (20, 8000) and s.sample_rate == 8000
    assert set(s.targets) == {"motion_labels"}
    again = _dataset(tmp_path / "b").split("train")
    assert np.array_equal(again.audio, s.audio) and np.array_equal(again.images, s.images)
    assert not np.array_equal(_dataset(tmp_path / "c", seed=1).split("train").audio, s.audio)


def _spectrum_peak(wave: np.ndarray, rate: int) -> float:
    f = np.abs(np.fft.rfft(wave))
    return float(np.fft.rfftfreq(len(wave), 1 / rate)[f.argmax()])


def test_each_class_has_its_own_pitch():
    t = np.arange(8000) / 8000
    peaks = [_spectrum_peak(soundtrack.timbre(c, t, 8000), 8000) for c in range(len(sounding_shapes.SHAPES))]
    assert len({round(p) for p in peaks}) == len(peaks)
    assert abs(peaks[0] - soundtrack.fundamental(0)) < 2


def test_bounces_strike_notes_at_their_frames():
    rng = np.random.default_rng(3)
    found = 0
    for i in range(40):
        _clip, events = sounding_shapes.render_sounding_clip(i % 10, 0, np.random.default_rng([i]), 16, 16, 8.0, 2.0)
        if not events:
            continue
        wave = soundtrack.soundtrack(i % 10, events, 2.0, 8000, rng, 0.0, 0).astype(np.float64)
        for e in events:
            if any(0 < e.time - o.time < 0.2 for o in events):
                continue  # still ringing from the note before
            k = int(e.time * 8000)
            before = np.abs(wave[max(0, k - 400):k]).mean()
            after = np.abs(wave[k:k + 400]).mean()
            assert after > 2 * before, (i, e)
            found += 1
    assert found >= 10
