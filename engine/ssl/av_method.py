"""What an audio-visual method is: a ``MethodPlugin`` whose ``training_step`` takes an
``AVBatch`` (clips with their waveforms) and trains two towers, the run's clip backbone for
the frames and an audio backbone of its own (``audio_backbone``, l3_audio by default) for
the sound (Arandjelovic & Zisserman, 2017: "vision" and "audio" subnetworks).

Shared here: the audio tower's parameters (``AV_PARAMS``), one random frame per clip
through the visual tower, the audio tower on a batch of waveforms, visual features for
kNN and probes (``embed``, on clips or AVBatches), audio features (``embed_audio``) for
the audio probe and cross-modal retrieval, and an input preview of frames beside log-mel
spectrograms.
"""
from __future__ import annotations

import torch

from engine.capabilities import SampleKind
from engine.data.av_batch import AVBatch
from engine.params import Param
from engine.registry import create_backbone
from engine.ssl.audio_visual import need_audio, spectrogram_image
from engine.ssl.augment import normalize, to_float
from engine.ssl.clips import gather_frames
from engine.ssl.method import MethodPlugin

AUDIO_BACKBONES = ("l3_audio",)

AV_PARAMS = [
    Param("audio_backbone", "choice", "l3_audio", "the audio tower, a registered audio backbone (its log-mel "
          "spectrogram is computed on the device)", choices=AUDIO_BACKBONES),
    Param("audio_width", "int", 32, "width of the audio tower's first block (L3-Net: 64)", 8, 256),
    Param("audio_mels", "int", 64, "mel bands of the audio tower's spectrogram", 8, 256),
    Param("audio_hop_ms", "float", 10.0, "hop of the audio tower's spectrogram in milliseconds", 1.0, 100.0),
]


class AudioVisualMethod(MethodPlugin):
    input_kind = SampleKind.CLIP_AUDIO
    shared_space = False  # True where shared_embeddings(batch) -> (v, a) (N, D) embeds both in one space

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        tower = {"width": p.get("audio_width", 32), "n_mels": p.get("audio_mels", 64),
                 "hop_ms": p.get("audio_hop_ms", 10.0)}
        self.audio = create_backbone(p.get("audio_backbone", "l3_audio"), tower, image_size)

    def batch(self, batch) -> AVBatch:
        return need_audio(batch, self.title or self.id)

    def visual_frames(self, frames: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """frames: (N, T, 3, H, W) uint8, idx: (N,) frame indices -> (N, frame_dims) features of
        those frames, each encoded as a one-frame clip."""
        x = normalize(to_float(gather_frames(frames, idx[:, None])))        # (N, 1, 3, H, W)
        return self.backbone.frame_features(x)[:, 0]

    def audio_features(self, wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
        """wave: (N, L) float -> (N, audio.num_features)."""
        return self.audio.forward_features(wave, sample_rate)

    @torch.no_grad()
    def embed(self, x) -> torch.Tensor:
        """Clips (N, T, 3, H, W) uint8 or an AVBatch -> (N, F) visual clip features."""
        frames = x.frames if isinstance(x, AVBatch) else x
        return self.backbone.forward_features(normalize(to_float(frames)))

    @torch.no_grad()
    def embed_audio(self, batch: AVBatch) -> torch.Tensor:
        """(N, audio.num_features) features of each clip's whole waveform."""
        return self.audio_features(batch.waveforms(), batch.sample_rate)

    @torch.no_grad()
    def input_preview(self, batch) -> dict:
        b = self.batch(batch)
        middle = to_float(b.frames[:, b.frames.shape[1] // 2])
        spec = self.audio.spectrogram(b.waveforms(), b.sample_rate)[:, 0]
        return {"middle frame": middle, "log-mel spectrogram": spectrogram_image(spec, middle.shape[-1])}
