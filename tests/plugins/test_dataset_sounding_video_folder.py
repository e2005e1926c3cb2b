"""Real sound: the audio stream of videos written here with PyAV is read back into clip+audio
records (tone at the right pitch, aligned with the clip); videos without sound are skipped
and counted; WAV (stdlib wave) and FLAC (PyAV) files read back."""
from __future__ import annotations

import wave

import av
import numpy as np
import pytest

from engine import registry
from engine.data.audio_file import read_sound, read_wav
from engine.data.dataset import DataError

FPS, RATE = 10, 16000


def _tone(freq: float, seconds: float, rate: int = RATE) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * freq * np.arange(int(seconds * rate)) / rate)).astype(np.float32)


def write_video(path, freq: float | None, seconds: float = 1.0, size: int = 16, audio_codec: str = "aac",
                shade: int = 0):
    """A grey video of ``seconds`` at 10 fps (grey levels from ``shade`` on), with a mono tone at
    ``freq`` Hz (None: no audio stream)."""
    with av.open(str(path), "w") as out:
        v = out.add_stream("mpeg4", rate=FPS)
        v.width = v.height = size
        v.pix_fmt = "yuv420p"
        a = out.add_stream(audio_codec, rate=RATE, layout="mono") if freq is not None else None
        for i in range(int(seconds * FPS)):
            img = np.full((size, size, 3), (20 * i + shade) % 256, np.uint8)
            for p in v.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        if a is not None:
            sound = _tone(freq, seconds)
            step = 1024
            for k in range(0, len(sound), step):
                frame = av.AudioFrame.from_ndarray(sound[None, k:k + step].copy(), format="flt", layout="mono")
                frame.sample_rate = RATE
                frame.pts = k
                for p in a.encode(frame):
                    out.mux(p)
            for p in a.encode():
                out.mux(p)
        for p in v.encode():
            out.mux(p)


def _peak(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64)))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[spectrum.argmax()])


def test_the_audio_stream_of_a_video_reads_back(tmp_path):
    write_video(tmp_path / "a.mp4", 440.0, seconds=2.0)
    sound = read_sound(str(tmp_path / "a.mp4"), 8000)
    assert sound is not None and abs(len(sound) - 16000) < 2400  # 2 s at 8 kHz (codec padding aside)
    assert abs(_peak(sound, 8000) - 440) < 5
    write_video(tmp_path / "silent.mkv", None)
    assert read_sound(str(tmp_path / "silent.mkv"), 8000) is None
    (tmp_path / "broken.mp4").write_bytes(b"\x00" * 100)
    assert read_sound(str(tmp_path / "broken.mp4"), 8000) is None


def test_wav_and_flac_read_back(tmp_path):
    x = _tone(1000.0, 0.5, 22050)
    with wave.open(str(tmp_path / "t.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(22050)
        pcm = (x * 32767).astype("<i2")
        w.writeframes(np.stack([pcm, pcm], axis=1).tobytes())
    got, rate = read_wav(str(tmp_path / "t.wav"))
    assert rate == 22050 and len(got) == len(x) and np.abs(got - x).max() < 1e-3
    assert abs(_peak(read_sound(str(tmp_path / "t.wav"), 16000), 16000) - 1000) < 5
    with av.open(str(tmp_path / "t.flac"), "w") as out:
        a = out.add_stream("flac", rate=22050, layout="mono")
        frame = av.AudioFrame.from_ndarray((x * 32767).astype(np.int16)[None], format="s16", layout="mono")
        frame.sample_rate, frame.pts = 22050, 0
        for p in [*a.encode(frame), *a.encode()]:
            out.mux(p)
    flac = read_sound(str(tmp_path / "t.flac"), 16000)
    assert flac is not None and abs(_peak(flac, 16000) - 1000) < 5
    (tmp_path / "bad.wav").write_bytes(b"RIFF1234WAVE")
    assert read_sound(str(tmp_path / "bad.wav"), 16000) is None


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "videos"
    for cls, freq in (("low", 300.0), ("high", 2000.0)):
        (r / cls).mkdir(parents=True)
        for k in range(3):
            write_video(r / cls / f"v{k}.mp4", freq, seconds=1.5)
        write_video(r / cls / "silent.mkv", None, seconds=1.5)
    return r


def test_a_folder_of_videos_with_sound_is_a_clip_audio_dataset(root, tmp_path):
    registry.discover()
    ds = registry.create_dataset("sounding_video_folder", {"root": str(root), "image_size": 16, "frames": 4,
                                                           "fps": 4.0, "sample_rate": 8000, "test_fraction": 0.25},
                                 tmp_path / "cache")
    ds.check()
    train, test = ds.split("train"), ds.split("test")
    assert train.images.shape[1:] == (4, 16, 16, 3) and train.audio.shape[1] == 8000 and train.sample_rate == 8000
    assert len(train) + len(test) == 6 and train.skipped + test.skipped == 2  # the silent videos
    for clip_sound, label in zip(train.audio, train.labels):
        want = 300.0 if train.classes[label] == "low" else 2000.0
        assert abs(_peak(clip_sound, 8000) - want) < 10
    assert ds.describe()["sample_rate"] == 8000


def test_a_folder_without_sound_is_refused_in_one_sentence(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / "v" / cls).mkdir(parents=True)
        for k in range(2):
            write_video(tmp_path / "v" / cls / f"{k}.mkv", None)
    registry.discover()
    ds = registry.create_dataset("sounding_video_folder", {"root": str(tmp_path / "v"), "image_size": 16})
    with pytest.raises(DataError, match="audio stream"):
        ds.check()
