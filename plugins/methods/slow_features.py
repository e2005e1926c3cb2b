"""Slow features: deep learning from temporal coherence in video (Mobahi, Collobert &
Weston, 2009), the contrastive margin form: neighbouring frames close, others apart."""
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


def neighbour_pairs(x: torch.Tensor, gap: int, gen: torch.Generator) -> torch.Tensor:
    """x: (N, T, 3, H, W) -> (N, 2, 3, H, W): frames t and t + gap of every clip, t uniform."""
    n, t = x.shape[:2]
    start = torch.randint(t - gap, (n,), generator=gen)
    return gather_frames(x, torch.stack([start, start + gap], dim=1))


def coherence_loss(z: torch.Tensor, margin: float = 1.0):
    """z: (N, 2, D) embeddings of N neighbouring pairs (frames t, t + gap of one clip).

    Pulls neighbours together, ``||z_t - z_t+gap||_1``, and pushes non-neighbours (frame t of
    clip i against frame t of clip i + 1) at least ``margin`` apart, ``max(0, margin -
    ||z_i - z_j||_1)`` (Mobahi et al., 2009, eq. 3-4). Returns (loss, {"slow_acc"}): the share
    of clips whose neighbour is nearer than the other clip's frame (chance 0.5)."""
    z = z.float()
    near = (z[:, 0] - z[:, 1]).abs().sum(dim=1)
    far = (z[:, 0] - z[:, 0].roll(1, dims=0)).abs().sum(dim=1)
    loss = near.mean() + (margin - far).clamp(min=0).mean()
    return loss, {"slow_acc": (near < far).float().mean()}


@register_method
class SlowFeatures(MethodPlugin):
    id = "slow_features"
    title = "Slow features (temporal coherence)"
    summary = ("Frames next to each other in a video show the same things, so their features should be "
               "close; frames of different videos should be at least a margin apart. The L1 contrastive "
               "form of temporal coherence, on single frames encoded by the clip backbone.")
    citation = "Mobahi, Collobert & Weston, 2009 (ICML)"
    accuracy_key = "slow_acc"
    input_kind = SampleKind.CLIP
    params = [
        Param("gap", "int", 1, "frames between neighbours", 1, 64),
        Param("margin", "float", 1.0, "the margin non-neighbours are pushed beyond (L1 distance)", 0.01, 1000.0, log=True),
        Param("embed_dim", "int", 0, "width of a linear embedding the loss acts on (0: the backbone features, "
              "as the paper's coherence acts on a layer of the network)", 0, 8192),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), the same for both frames", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        f = backbone.num_features
        self.embedding = nn.Linear(f, p["embed_dim"]) if p["embed_dim"] else nn.Identity()

    def pairs(self, x, gen):
        need_frames(x, self.hparams["gap"] + 1, "slow features")
        return neighbour_pairs(x, self.hparams["gap"], gen)

    def training_step(self, x, y=None):
        pairs = augment_clips(to_float(self.pairs(x, self.gen)), self.image_size,
                              (self.hparams["crop_min"], 1.0), 0.5, gen=self.gen)
        f = self.backbone.forward_features(normalize(as_single_frames(pairs)))
        loss, metrics = coherence_loss(self.embedding(f).view(len(x), 2, -1), self.hparams["margin"])
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        pairs = to_float(self.pairs(x, torch.Generator().manual_seed(0)))
        other = torch.stack([pairs[:, 0], pairs[:, 0].roll(1, dims=0)], dim=1)
        return {"neighbours (pulled together)": tile_frames(pairs),
                "another clip (pushed apart)": tile_frames(other)}
