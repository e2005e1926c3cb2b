"""Slow and steady feature analysis: higher order temporal coherence in video (Jayaraman &
Grauman, 2016): features change slowly (first order) and steadily (second order)."""
from __future__ import annotations

import torch

from engine.api import FrameTupleMethod, Param, register_method, tile_frames, to_float


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
class SlowSteady(FrameTupleMethod):
    id = "slow_steady"
    title = "Slow and steady features"
    summary = ("Beyond slowness (neighbouring frames close), features should change steadily: along three "
               "frames in a row, the step from the first to the second equals the step from the second to "
               "the third. Both are contrastive against frames of other clips, on single frames encoded by "
               "the clip backbone.")
    citation = "Jayaraman & Grauman, 2016 (CVPR)"
    accuracy_key = "steady_acc"
    # frames t, t + gap, t + 2 gap
    tuple_frames = 3
    task_name = "slow and steady"
    params = [
        Param("gap", "int", 1, "frames between successive frames of a triplet", 1, 32),
        Param("margin", "float", 1.0, "contrastive margin (Euclidean distance)", 0.01, 1000.0, log=True),
        Param("slow_weight", "float", 1.0, "weight of the first-order (slow) term", 0.0, 100.0),
        Param("steady_weight", "float", 1.0, "weight of the second-order (steady) term", 0.0, 100.0),
        Param("embed_dim", "int", 64, "width of the linear embedding the losses act on (0: the backbone features)",
              0, 8192),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), the same for the triplet", 0.05, 1.0),
    ]

    def tuple_loss(self, z):
        p = self.hparams
        return slow_steady_loss(z, p["margin"], p["slow_weight"], p["steady_weight"])

    @torch.no_grad()
    def input_preview(self, x):
        trip = to_float(self.tuples(x, torch.Generator().manual_seed(0)))
        other = torch.stack([trip[:, 0], trip[:, 1], trip[:, 2].roll(1, dims=0)], dim=1)
        return {"sequential triplet (steady)": tile_frames(trip),
                "non-sequential triplet": tile_frames(other)}
