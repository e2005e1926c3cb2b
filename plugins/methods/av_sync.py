"""Audio-visual synchronisation: Audio-Visual Scene Analysis with Self-Supervised
Multisensory Features (Owens & Efros, 2018). A clip with its own sound, aligned or shifted
in time: are they in sync?"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    AV_PARAMS,
    AudioVisualMethod,
    Param,
    circular_shift,
    classification_loss,
    normalize,
    random_gain,
    register_method,
    to_float,
)


def shifted_sound(wave: torch.Tensor, min_shift: float, positive_p: float, gen: torch.Generator):
    """wave: (N, L) -> (sound (N, L), labels (N,) 1 = in sync). Out-of-sync sound is the clip's
    own, rolled circularly by between ``min_shift`` and ``1 - min_shift`` of its length (the
    paper shifts by 2.0-5.8 s in 4.2 s clips, so content is kept and only timing differs)."""
    n, length = wave.shape
    shift = (min_shift + (1 - 2 * min_shift) * torch.rand(n, generator=gen)) * length
    positive = torch.rand(n, generator=gen) < positive_p
    shift = torch.where(positive, torch.zeros(n), shift).long()
    return circular_shift(wave, shift), positive.long().to(wave.device)


@register_method
class AudioVisualSync(AudioVisualMethod):
    id = "av_sync"
    title = "Audio-visual synchronisation (multisensory features)"
    summary = ("A clip with its own soundtrack, either aligned or shifted in time: the clip backbone's per-frame "
               "features and the audio tower's map, pooled over frequency and resampled to the frames, are "
               "joined frame by frame and a temporal convolution must say whether they are in sync. Only the "
               "timing differs, so the networks learn when things happen: bounces and their sounds.")
    citation = "Owens & Efros, 2018 (ECCV), Audio-Visual Scene Analysis with Self-Supervised Multisensory Features"
    # chance: the larger class's share (0.5 when balanced)
    accuracy_key = "sync_acc"
    params = [
        Param("min_shift", "float", 0.2, "smallest shift of out-of-sync sound, as a fraction of the clip", 0.05, 0.5),
        Param("positive_p", "float", 0.5, "share of in-sync pairs in a batch", 0.05, 0.95),
        Param("fusion_width", "int", 128, "channels of the temporal fusion convolutions", 8, 2048),
        *AV_PARAMS,
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        w = p["fusion_width"]
        self.fusion = nn.Sequential(nn.Conv1d(backbone.frame_dims + self.audio.num_features, w, 3, padding=1),
                                    nn.BatchNorm1d(w), nn.ReLU(inplace=True), nn.Conv1d(w, w, 3, padding=1),
                                    nn.BatchNorm1d(w), nn.ReLU(inplace=True))
        self.head = nn.Linear(w, 2)

    def audio_in_time(self, wave: torch.Tensor, sample_rate: int, frames: int) -> torch.Tensor:
        """(N, L) -> (N, Fa, frames): the audio tower's last map pooled over mel, resampled in time."""
        m = self.audio.stages(wave, sample_rate)[-1].mean(dim=2)             # (N, Fa, T_audio)
        return F.adaptive_avg_pool1d(m, frames)

    def training_step(self, x, y=None):
        b = self.batch(x)
        sound, labels = shifted_sound(b.waveforms(), self.hparams["min_shift"], self.hparams["positive_p"], self.gen)
        v = self.backbone.frame_features(normalize(to_float(b.frames))).transpose(1, 2)   # (N, Fv, T)
        a = self.audio_in_time(random_gain(sound, self.gen), b.sample_rate, v.shape[2])
        logits = self.head(self.fusion(torch.cat([v, a], dim=1)).amax(dim=2))
        loss, metrics = classification_loss(logits, labels, "sync_acc")
        return {"loss": loss, **metrics}
