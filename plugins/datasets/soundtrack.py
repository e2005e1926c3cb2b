"""Synthetic soundtracks for ``sounding_shapes``: every shape class has its own timbre, a
bounce off a border is a struck note at the frame it happens, over background noise and
distractor chirps that belong to nothing on screen.

A timbre (``timbre``) is a harmonic spectrum: class ``c`` sounds at f0 = 180 Hz x 1.26^c
(about a major third per class), with harmonic amplitudes falling as h^-(0.5 + 0.7 (c mod 3))
and only the odd harmonics for odd c (a clarinet-like spectrum), so both pitch and colour
tell the classes apart. The main object hums softly in its timbre for the whole clip; each
bounce (``Event``) adds a note with a sharp onset and a 40 ms decay.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HARMONICS = 6
HUM = 0.08          # amplitude of the main object's sustained hum
STRIKE = 0.5        # amplitude of a bounce of the main object (distractor objects: half)
DECAY_S = 0.04      # e-folding time of a struck note
NOTE_S = 0.2        # how long a struck note is synthesised


@dataclass(frozen=True)
class Event:
    """A bounce: at ``time`` seconds, an object of shape class ``shape`` hit a border."""

    time: float
    shape: int
    loudness: float


def fundamental(shape: int) -> float:
    """f0 in Hz of shape class ``shape``."""
    return 180.0 * 1.26 ** shape


def timbre(shape: int, t: np.ndarray, sample_rate: int) -> np.ndarray:
    """(len(t),) float waveform of class ``shape``'s harmonic spectrum at times ``t`` (s),
    peak-normalised; harmonics above Nyquist are left out."""
    f0, decay = fundamental(shape), 0.5 + 0.7 * (shape % 3)
    out = np.zeros_like(t)
    for h in range(1, HARMONICS + 1):
        if (shape % 2 and h % 2 == 0) or h * f0 >= sample_rate / 2:
            continue
        out += h ** -decay * np.sin(2 * np.pi * h * f0 * t + h)
    return out / max(1e-6, float(np.abs(out).max()))


def _strike(wave: np.ndarray, e: Event, sample_rate: int) -> None:
    start = round(e.time * sample_rate)
    n = min(int(NOTE_S * sample_rate), len(wave) - start)
    if n <= 0:
        return
    t = np.arange(n) / sample_rate
    wave[start:start + n] += e.loudness * np.exp(-t / DECAY_S) * timbre(e.shape, t, sample_rate)


def _chirp(wave: np.ndarray, rng: np.random.Generator, sample_rate: int) -> None:
    """A distractor: a short frequency sweep at a random time, in no class's timbre."""
    n = int(rng.uniform(0.05, 0.15) * sample_rate)
    start = int(rng.integers(0, max(1, len(wave) - n)))
    n = min(n, len(wave) - start)
    t = np.arange(n) / sample_rate
    f_a, f_b = rng.uniform(300, sample_rate / 2.5, 2)
    phase = 2 * np.pi * (f_a * t + (f_b - f_a) * t ** 2 / (2 * max(t[-1], 1e-3)))
    wave[start:start + n] += rng.uniform(0.1, 0.3) * np.sin(phase) * np.hanning(n)


def soundtrack(main_shape: int, events: list[Event], seconds: float, sample_rate: int,
               rng: np.random.Generator, noise: float, distractors: int) -> np.ndarray:
    """(round(seconds x sample_rate),) int16 mono waveform: the main shape's hum, a struck
    note per event, up to ``distractors`` chirps and white noise of standard deviation
    ``noise`` (full scale 1)."""
    n = round(seconds * sample_rate)
    t = np.arange(n) / sample_rate
    wave = HUM * timbre(main_shape, t, sample_rate)
    for e in events:
        _strike(wave, e, sample_rate)
    for _ in range(int(rng.integers(0, distractors + 1))):
        _chirp(wave, rng, sample_rate)
    wave += rng.normal(0.0, noise, n)
    return (np.clip(wave, -1.0, 1.0) * 32767).astype(np.int16)
