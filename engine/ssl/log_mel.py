"""Log-mel spectrograms on the training device, with ``torch.stft`` and a triangular mel
filterbank built here (no torchaudio): what the audio backbones see.

The mel scale is the HTK one, m = 2595 log10(1 + f / 700) (O'Shaughnessy, 1987); the
filters are triangles on it with peaks 1, each rising from the centre of the filter below
to its own centre and falling to the centre of the one above (as in HTK, Young et al. 2006,
and librosa's ``htk=True`` without area normalisation).
"""
from __future__ import annotations

import functools
import math

import torch

LOG_FLOOR = 1e-6  # added to the mel power before the log: silence reads log(1e-6), about -13.8


def hz_to_mel(f: torch.Tensor | float) -> torch.Tensor:
    return 2595.0 * torch.log10(1.0 + torch.as_tensor(f, dtype=torch.float64) / 700.0)


def mel_to_hz(m: torch.Tensor) -> torch.Tensor:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@functools.lru_cache(maxsize=16)
def mel_filterbank(n_mels: int, n_fft: int, sample_rate: int, f_min: float = 0.0,
                   f_max: float | None = None) -> torch.Tensor:
    """(n_mels, n_fft // 2 + 1) float32 triangular filters over the STFT's frequency bins, on
    the CPU (cached; move it to the device). Filter k peaks at the k-th of n_mels points
    spaced evenly in mel between f_min and f_max (default: Nyquist), exclusive."""
    f_max = sample_rate / 2 if f_max is None else f_max
    bins = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)  # (F,) Hz
    edges = mel_to_hz(torch.linspace(float(hz_to_mel(f_min)), float(hz_to_mel(f_max)), n_mels + 2,
                                     dtype=torch.float64))                          # (n_mels + 2,) Hz
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (bins[None] - lo) / (mid - lo)
    falling = (hi - bins[None]) / (hi - mid)
    return torch.clamp(torch.minimum(rising, falling), min=0.0).float()


def fft_size(window: int) -> int:
    """The power of two at least ``window`` samples long."""
    return 1 << max(1, math.ceil(math.log2(max(2, window))))


def log_mel(wave: torch.Tensor, sample_rate: int, n_mels: int = 64, window_ms: float = 25.0,
            hop_ms: float = 10.0) -> torch.Tensor:
    """wave: (N, L) float mono waveforms in [-1, 1] on any device -> (N, n_mels, frames) log
    mel power, frames = 1 + L // hop (centred frames, reflect padding), computed on wave's
    device; Hann windows of ``window_ms``, zero-padded to a power of two."""
    win = max(2, round(sample_rate * window_ms / 1000))
    hop = max(1, round(sample_rate * hop_ms / 1000))
    n_fft = fft_size(win)
    spec = torch.stft(wave.float(), n_fft, hop, win, torch.hann_window(win, device=wave.device),
                      center=True, pad_mode="reflect", return_complex=True)   # (N, F, frames)
    power = spec.real ** 2 + spec.imag ** 2
    fb = mel_filterbank(n_mels, n_fft, int(sample_rate)).to(wave.device)
    return torch.log(torch.einsum("mf,nft->nmt", fb, power) + LOG_FLOOR)


def mel_band_of(freq: float, sample_rate: int, n_mels: int, f_min: float = 0.0) -> int:
    """Index of the mel filter whose peak is nearest ``freq`` Hz (for tests and previews)."""
    peaks = mel_to_hz(torch.linspace(float(hz_to_mel(f_min)), float(hz_to_mel(sample_rate / 2)), n_mels + 2,
                                     dtype=torch.float64))[1:-1]
    return int((peaks - freq).abs().argmin())
