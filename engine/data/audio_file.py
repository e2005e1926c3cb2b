"""Reading sound from files: WAV with the standard library's ``wave``, everything else (FLAC,
the audio stream of mp4/mkv/webm/avi videos) with PyAV; mono, resampled to the dataset's rate,
cut into fixed-length int16 windows for the clip+audio cache.

Every reader returns None for a file it cannot read (corrupt, truncated, no audio stream),
so a dataset skips and counts it; none raises a traceback.
"""
from __future__ import annotations

import struct
import wave

import numpy as np

_PCM = {1: np.uint8, 2: np.dtype("<i2"), 4: np.dtype("<i4")}


def read_wav(path: str) -> tuple[np.ndarray, int] | None:
    """((L,) float32 mono in [-1, 1], sample rate) of a PCM WAV file (8, 16, 24 or 32 bit),
    channels averaged; None when it is not a readable PCM WAV."""
    try:
        with wave.open(path, "rb") as w:
            width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError, OSError, ValueError, RuntimeError, struct.error):  # RuntimeError: a chunk
        return None  # that claims more bytes than the file has (wave's _Chunk.seek)
    if width == 3:  # 24-bit: widen to 32 bit
        b = np.frombuffer(raw, np.uint8)[: len(raw) // 3 * 3].reshape(-1, 3)
        x = (np.pad(b, ((0, 0), (1, 0))).view("<i4")[:, 0] / 2.0 ** 31).astype(np.float32)
    elif width in _PCM:
        x = np.frombuffer(raw, _PCM[width]).astype(np.float32)
        x = (x - 128) / 128 if width == 1 else x / float(2 ** (8 * width - 1))
    else:
        return None
    if channels < 1 or len(x) < channels:
        return None
    return x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1), rate


def read_av_audio(path: str, sample_rate: int) -> np.ndarray | None:
    """(L,) float32 mono at ``sample_rate`` of the first audio stream of any file FFmpeg reads
    (FLAC, videos' soundtracks), resampled by FFmpeg; None without a readable audio stream."""
    import av

    try:
        with av.open(path) as container:
            if not container.streams.audio:
                return None
            resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
            parts = []
            for frame in container.decode(container.streams.audio[0]):
                parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return None
    return np.concatenate(parts).astype(np.float32) if parts else None


def resample(x: np.ndarray, rate: int, target: int) -> np.ndarray:
    """(L,) at ``rate`` -> (round(L target / rate),) at ``target``, by linear interpolation."""
    if rate == target or not len(x):
        return x
    n = max(1, round(len(x) * target / rate))
    return np.interp(np.arange(n) * rate / target, np.arange(len(x)), x).astype(np.float32)


def read_sound(path: str, sample_rate: int) -> np.ndarray | None:
    """(L,) float32 mono at ``sample_rate`` of a sound or video file, None when unreadable."""
    if path.lower().endswith(".wav"):
        got = read_wav(path)
        return None if got is None else resample(got[0], got[1], sample_rate)
    return read_av_audio(path, sample_rate)


def sound_windows(x: np.ndarray, sample_rate: int, starts_s: np.ndarray, seconds: float) -> np.ndarray:
    """(L,) float sound -> (len(starts_s), round(seconds x rate)) int16 windows starting at
    ``starts_s`` seconds; beyond the end of the sound is silence."""
    n = round(seconds * sample_rate)
    out = np.zeros((len(starts_s), n), np.float32)
    for i, s in enumerate(starts_s):
        a = max(0, round(s * sample_rate))
        piece = x[a:a + n]
        out[i, :len(piece)] = piece
    return (np.clip(out, -1.0, 1.0) * 32767).astype(np.int16)
