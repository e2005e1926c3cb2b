"""Tiny sound files written here for the sound_folder tests: 16-bit WAV with the standard
library's ``wave``, FLAC with PyAV, and two clearly distinct timbres (a low harmonic hum and
a high, noisy whistle) for a folder the audio probe can tell apart."""
from __future__ import annotations

import wave

import av
import numpy as np


def write_wav(path, x: np.ndarray, rate: int) -> None:
    """(L,) float in [-1, 1] -> a mono 16-bit PCM WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(x, -1, 1) * 32767).astype("<i2").tobytes())


def write_flac(path, x: np.ndarray, rate: int) -> None:
    """(L,) float in [-1, 1] -> a mono FLAC file (PyAV)."""
    with av.open(str(path), "w") as out:
        a = out.add_stream("flac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray((np.clip(x, -1, 1) * 32767).astype(np.int16)[None], format="s16",
                                           layout="mono")
        frame.sample_rate, frame.pts = rate, 0
        for p in [*a.encode(frame), *a.encode()]:
            out.mux(p)


def timbre(kind: str, seconds: float, rate: int, rng: np.random.Generator) -> np.ndarray:
    """(L,) float: ``low``, a 150-250 Hz hum with falling harmonics, or ``high``, a 2-3 kHz
    whistle with noise; random pitch, phase and loudness per call."""
    t = np.arange(int(seconds * rate)) / rate
    if kind == "low":
        f0 = rng.uniform(150, 250)
        x = sum(h ** -1.0 * np.sin(2 * np.pi * h * f0 * t + rng.uniform(0, 6)) for h in range(1, 5))
    else:
        x = np.sin(2 * np.pi * rng.uniform(2000, 3000) * t) + 0.3 * rng.normal(0, 1, len(t))
    return rng.uniform(0.2, 0.5) * x / np.abs(x).max()


def sound_folder(root, per_class: int = 10, seconds: float = 0.5, rate: int = 8000, seed: int = 0):
    """``root/low`` and ``root/high``: ``per_class`` sounds each, WAV and FLAC alternating."""
    rng = np.random.default_rng(seed)
    for kind in ("low", "high"):
        (root / kind).mkdir(parents=True, exist_ok=True)
        for k in range(per_class):
            x = timbre(kind, seconds * rng.uniform(0.6, 1.4), rate, rng)
            (write_wav if k % 2 == 0 else write_flac)(root / kind / f"s{k}.{'wav' if k % 2 == 0 else 'flac'}", x, rate)
    return root
