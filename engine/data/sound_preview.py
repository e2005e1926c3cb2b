"""What the data preview shows of a dataset's sound: each sampled clip's log-mel spectrogram
(engine.ssl.log_mel, the same front end as the audio tower, Arandjelovic & Zisserman 2017)
as a plain numpy image the workbench only has to colour and draw."""
from __future__ import annotations

import numpy as np

PREVIEW_MELS = 64
PREVIEW_HOP_MS = 10.0


def spectrogram_images(audio: np.ndarray, sample_rate: int, n_mels: int = PREVIEW_MELS,
                       hop_ms: float = PREVIEW_HOP_MS) -> np.ndarray:
    """audio: (n, L) int16 waveforms at ``sample_rate`` -> (n, n_mels, frames) float32 in
    [0, 1]: log-mel power, row 0 the highest band (low pitches at the bottom, as drawn),
    each spectrogram spread from its own floor (60 dB below its peak) to its peak."""
    import torch

    from engine.ssl.log_mel import log_mel

    if not len(audio):
        return np.zeros((0, n_mels, 1), np.float32)
    wave = torch.from_numpy(np.array(audio, np.int16)).float() / 32767.0
    with torch.no_grad():
        spec = log_mel(wave, int(sample_rate), n_mels, hop_ms=hop_ms).flip(1)   # (n, mels, frames), natural log
    peak = spec.amax(dim=(1, 2), keepdim=True)
    floor = peak - 60.0 / 10.0 * np.log(10.0)                                    # 60 dB of power below the peak
    return ((spec - floor) / (peak - floor)).clamp(0.0, 1.0).numpy().astype(np.float32)
