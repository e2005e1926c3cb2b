"""What an audio backbone is: a ``BackboneBase`` whose input is a batch of mono waveforms,
(N, L) float in [-1, 1] at a sample rate, which it turns into a log-mel spectrogram on the
device (engine.ssl.log_mel) and encodes as an image of one channel (mel x time).

- ``spectrogram(wave, sample_rate) -> (N, 1, n_mels, frames)``, batch-normalised log-mel;
- ``stages(wave, sample_rate)``: maps (N, C_i, M_i, T_i) after the stem and each layer;
- ``forward_features(wave, sample_rate) -> (N, num_features)``.

``sample_rate`` defaults to the one the backbone was built with; audio-visual methods pass
their batch's (``AVBatch.sample_rate``). Audio-visual methods build their audio tower from
one of these; the visual backbone they train is a clip backbone.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.capabilities import SampleKind
from engine.models.backbone import BackboneBase
from engine.ssl.log_mel import log_mel


class AudioBackboneBase(BackboneBase):
    input_kind = SampleKind.AUDIO
    n_mels: int = 64
    window_ms: float = 25.0
    hop_ms: float = 10.0
    sample_rate: int = 16000

    def __init__(self):
        super().__init__()
        self.input_norm = nn.BatchNorm2d(1)  # learned scale of the log power (silence is about -13.8)

    def spectrogram(self, wave: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        """wave: (N, L) float -> (N, 1, n_mels, frames) normalised log-mel."""
        spec = log_mel(wave, sample_rate or self.sample_rate, self.n_mels, self.window_ms, self.hop_ms)
        return self.input_norm(spec[:, None])

    def stages(self, wave: torch.Tensor, sample_rate: int | None = None) -> list[torch.Tensor]:
        """wave: (N, L) -> [stem map, map after each layer], each (N, C_i, M_i, T_i)."""
        return super().stages(self.spectrogram(wave, sample_rate))

    def forward_features(self, wave: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        """wave: (N, L) -> (N, num_features): the last map max-pooled over mel and time."""
        return self.stages(wave, sample_rate)[-1].amax(dim=(2, 3))

    def forward(self, wave: torch.Tensor, sample_rate: int | None = None) -> torch.Tensor:
        return self.forward_features(wave, sample_rate)
