"""Log-mel spectrograms built from torch.stft and our own mel filterbank: a pure tone puts
its energy in the mel band around its frequency; the filterbank is a partition of triangles."""
import math

import torch

from engine.ssl.log_mel import (
    hz_to_mel,
    log_mel,
    mel_band_of,
    mel_filterbank,
    mel_to_hz,
)


def _tone(freq: float, rate: int, seconds: float = 0.5) -> torch.Tensor:
    t = torch.arange(int(rate * seconds)) / rate
    return 0.5 * torch.sin(2 * math.pi * freq * t)[None]


def test_a_tone_lands_in_its_mel_band():
    for rate, freq in ((16000, 440.0), (16000, 3000.0), (8000, 1000.0)):
        spec = log_mel(_tone(freq, rate), rate, n_mels=40)          # (1, 40, frames)
        assert spec.shape[:2] == (1, 40) and spec.shape[2] == 1 + int(rate * 0.5) // round(rate / 100)
        profile = spec[0, :, 5:-5].mean(dim=1)
        band = int(profile.argmax())
        assert abs(band - mel_band_of(freq, rate, 40)) <= 1, (rate, freq, band)
        assert profile[band] > profile.median() + 5  # e^5: far above the other bands


def test_filterbank_is_triangles_that_cover_the_spectrum():
    fb = mel_filterbank(32, 512, 16000)
    assert fb.shape == (32, 257) and float(fb.max()) <= 1.0 + 1e-6 and float(fb.min()) >= 0.0
    peaks = fb.argmax(dim=1)
    assert torch.all(peaks[1:] > peaks[:-1])  # centres increase
    inner = fb[:, int(peaks[0]):int(peaks[-1]) + 1].sum(dim=0)  # between the outer peaks: a partition of one
    assert torch.allclose(inner, torch.ones_like(inner), atol=0.05)
    assert abs(float(mel_to_hz(hz_to_mel(1000.0))) - 1000.0) < 1e-6
    assert abs(float(hz_to_mel(1000.0)) - 1000.0) < 1.0  # the HTK scale: 1000 Hz is about 1000 mel


def test_silence_is_the_log_floor_and_runs_on_the_input_device():
    spec = log_mel(torch.zeros(2, 1600), 16000, n_mels=16)
    assert torch.allclose(spec, torch.full_like(spec, math.log(1e-6)), atol=1e-3)
    assert spec.device == torch.zeros(1).device
