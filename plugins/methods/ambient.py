"""Ambient sound provides supervision for visual learning (Owens, Wu, McDermott, Freeman &
Torralba, 2016): a frame must predict which cluster its clip's sound statistics fall in."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    AV_PARAMS,
    AudioVisualMethod,
    Param,
    classification_loss,
    log_mel,
    register_method,
    window_starts,
)


def sound_statistics(wave: torch.Tensor, sample_rate: int, n_mels: int = 32) -> torch.Tensor:
    """wave: (N, L) -> (N, 3 n_mels) summary statistics of each sound: per mel band the mean
    and standard deviation of the log power over time and its mean absolute change from one
    frame to the next (a small stand-in for the paper's sound-texture statistics of
    McDermott & Simoncelli, 2011: band envelopes' moments and modulation)."""
    spec = log_mel(wave, sample_rate, n_mels)                        # (N, M, T)
    change = (spec[..., 1:] - spec[..., :-1]).abs().mean(dim=2)
    return torch.cat([spec.mean(dim=2), spec.std(dim=2), change], dim=1)


class OnlineKMeans(nn.Module):
    """Mini-batch k-means (Sculley, 2010) over standardised statistics: the paper clusters the
    whole dataset's statistics once; here the centroids follow the batches, with per-centre
    learning rates 1 / count, so cluster ids settle as training goes on."""

    def __init__(self, k: int, dims: int):
        super().__init__()
        self.register_buffer("centroids", torch.zeros(k, dims))
        self.register_buffer("counts", torch.zeros(k))
        self.register_buffer("mean", torch.zeros(dims))
        self.register_buffer("var", torch.ones(dims))
        self.register_buffer("started", torch.zeros((), dtype=torch.bool))

    def assign(self, stats: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """stats: (N, D) -> (N,) int64 cluster ids, after one update of the centroids while
        training; in eval mode (held-out clips) the centroids are only read."""
        if not self.training and bool(self.started):
            return torch.cdist((stats - self.mean) / self.var.sqrt(), self.centroids).argmin(1)
        if not bool(self.started):
            self.mean.copy_(stats.mean(0))
            self.var.copy_(stats.var(0) + 1e-4)
            z = (stats - self.mean) / self.var.sqrt()
            pick = torch.randint(len(z), (len(self.centroids),), generator=gen).to(z.device)
            self.centroids.copy_(z[pick] + 0.01 * torch.randn(self.centroids.shape, generator=gen).to(z.device))
            self.started.fill_(True)
        else:
            self.mean.lerp_(stats.mean(0), 0.01)
            self.var.lerp_(stats.var(0) + 1e-4, 0.01)
        z = (stats - self.mean) / self.var.sqrt()
        ids = torch.cdist(z, self.centroids).argmin(1)
        self.counts.index_add_(0, ids, torch.ones_like(ids, dtype=self.counts.dtype))
        sums = torch.zeros_like(self.centroids).index_add_(0, ids, z)
        hits = torch.bincount(ids, minlength=len(self.centroids)).to(z.dtype)[:, None]
        rate = (hits / self.counts.clamp_min(1)[:, None])
        self.centroids.add_(rate * (sums / hits.clamp_min(1) - self.centroids) * (hits > 0))
        return ids


@register_method
class AmbientSound(AudioVisualMethod):
    id = "ambient_sound"
    title = "Ambient sound as supervision"
    summary = ("The statistics of each clip's sound (per mel band: mean, spread and modulation of the log power) "
               "are clustered with k-means; a frame of the clip must predict its sound's cluster. The sound "
               "is only a target, never encoded: what makes a noise is what the network learns to see.")
    citation = "Owens, Wu, McDermott, Freeman & Torralba, 2016 (ECCV), Ambient Sound Provides Supervision"
    # the clip's sound cluster among k
    accuracy_key = "ambient_acc"
    params = [
        Param("clusters", "int", 30, "k-means clusters of the sound statistics (the paper: 30)", 2, 1024),
        Param("stat_mels", "int", 32, "mel bands of the statistics", 8, 128),
        *AV_PARAMS,
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.kmeans = OnlineKMeans(p["clusters"], 3 * p["stat_mels"])
        self.head = nn.Linear(backbone.frame_dims, p["clusters"])

    def training_step(self, x, y=None):
        b = self.batch(x)
        with torch.no_grad():
            clusters = self.kmeans.assign(sound_statistics(b.waveforms(), b.sample_rate, self.hparams["stat_mels"]),
                                          self.gen)
        idx = window_starts(len(b), b.frames.shape[1], 1, self.gen)       # one random frame per clip
        loss, metrics = classification_loss(self.head(self.visual_frames(b.frames, idx)), clusters, "ambient_acc")
        return {"loss": loss, **metrics}
