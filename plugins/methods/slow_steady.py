"""Slow and steady feature analysis: higher order temporal coherence in video (Jayaraman &
Grauman, 2016): features change slowly (first order) and steadily (second order)."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    SampleKind,
    as_single_frames,
    augment_clips,
    gather_frames,
    need_frames,
    normalize,
    register_method,
    tile_frames,
    to_float,
)


def sequential_triplets(x: torch.Tensor, gap: int, gen: torch.Generator) -> torch.Tensor:
    """x: (N, T, 3, H, W) -> (N, 3, 3, H, W): frames t, t + gap, t + 2 gap of every clip."""
    n, t = x.shape[:2]
    start = torch.randint(t - 2 * gap, (n,), generator=gen)
    return gather_frames(x, torch.stack([start, start + gap, start + 2 * gap], dim=1))


def _contrastive(d_pos: torch.Tensor, d_neg: torch.Tensor, margin: float) -> torch.Tensor:
    """Hadsell et al. (2006): d_pos^2 + max(0, margin - d_neg)^2, averaged."""
    return (d_pos.pow(2) + (margin - d_neg).clamp(min=0).pow(2)).mean()


def slow_steady_loss(z: torch.Tensor, margin: float = 1.0, slow_weight: float = 1.0, steady_weight: float = 1.0):
    """z: (N, 3, D) embeddings of N sequential triplets (a, b, c) of frames.

    slow: pairs (a, b) close, (a_i, b_i+1) of different clips beyond ``margin``;
    steady: the second difference ||(z_b - z_a) - (z_c - z_b)||_2 small for sequential
    triplets and beyond ``margin`` for non-sequential ones (a_i, b_i, c_i+1), both with the
    contrastive loss (Jayaraman & Grauman, 2016, eq. 2-4). Returns (loss, {"steady_acc",
    "slow_acc"}): the share of clips whose sequential pair / triplet scores better than the
    non-sequential one (chance 0.5)."""
    z = z.float()
    a, b, c = z.unbind(1)
    c_other, b_other = c.roll(1, dims=0), b.roll(1, dims=0)
    d_slow, d_slow_neg = (a - b).norm(dim=1), (a - b_other).norm(dim=1)
    d_steady, d_steady_neg = (b - a - (c - b)).norm(dim=1), (b - a - (c_other - b)).norm(dim=1)
    loss = slow_weight * _contrastive(d_slow, d_slow_neg, margin) + steady_weight * _contrastive(
        d_steady, d_steady_neg, margin)
    return loss, {"steady_acc": (d_steady < d_steady_neg).float().mean(),
                  "slow_acc": (d_slow < d_slow_neg).float().mean()}


@register_method
class SlowSteady(MethodPlugin):
    id = "slow_steady"
    title = "Slow and steady features"
    summary = ("Beyond slowness (neighbouring frames close), features should change steadily: along three "
               "frames in a row, the step from the first to the second equals the step from the second to "
               "the third. Both are contrastive against frames of other clips, on single frames encoded by "
               "the clip backbone.")
    citation = "Jayaraman & Grauman, 2016 (CVPR)"
    accuracy_key = "steady_acc"
    input_kind = SampleKind.CLIP
    params = [
        Param("gap", "int", 1, "frames between successive frames of a triplet", 1, 32),
        Param("margin", "float", 1.0, "contrastive margin (Euclidean distance)", 0.01, 1000.0, log=True),
        Param("slow_weight", "float", 1.0, "weight of the first-order (slow) term", 0.0, 100.0),
        Param("steady_weight", "float", 1.0, "weight of the second-order (steady) term", 0.0, 100.0),
        Param("embed_dim", "int", 64, "width of the linear embedding the losses act on (0: the backbone features)",
              0, 8192),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), the same for the triplet", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        f = backbone.num_features
        self.embedding = nn.Linear(f, p["embed_dim"]) if p["embed_dim"] else nn.Identity()

    def triplets(self, x, gen):
        need_frames(x, 2 * self.hparams["gap"] + 1, "slow and steady")
        return sequential_triplets(x, self.hparams["gap"], gen)

    def training_step(self, x, y=None):
        p = self.hparams
        trip = augment_clips(to_float(self.triplets(x, self.gen)), self.image_size, (p["crop_min"], 1.0), 0.5,
                             gen=self.gen)
        f = self.backbone.forward_features(normalize(as_single_frames(trip)))
        loss, metrics = slow_steady_loss(self.embedding(f).view(len(x), 3, -1), p["margin"], p["slow_weight"],
                                         p["steady_weight"])
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        trip = to_float(self.triplets(x, torch.Generator().manual_seed(0)))
        other = torch.stack([trip[:, 0], trip[:, 1], trip[:, 2].roll(1, dims=0)], dim=1)
        return {"sequential triplet (steady)": tile_frames(trip),
                "non-sequential triplet": tile_frames(other)}
