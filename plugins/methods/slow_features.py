"""Slow features: deep learning from temporal coherence in video (Mobahi, Collobert &
Weston, 2009), the contrastive margin form: neighbouring frames close, others apart."""
from __future__ import annotations

import torch

from engine.api import FrameTupleMethod, Param, register_method, tile_frames, to_float


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
class SlowFeatures(FrameTupleMethod):
    id = "slow_features"
    title = "Slow features (temporal coherence)"
    summary = ("Frames next to each other in a video show the same things, so their features should be "
               "close; frames of different videos should be at least a margin apart. The L1 contrastive "
               "form of temporal coherence, on single frames encoded by the clip backbone.")
    citation = "Mobahi, Collobert & Weston, 2009 (ICML)"
    accuracy_key = "slow_acc"
    # frames t and t + gap
    tuple_frames = 2
    task_name = "slow features"
    params = [
        Param("gap", "int", 1, "frames between neighbours", 1, 64),
        Param("margin", "float", 1.0, "the margin non-neighbours are pushed beyond (L1 distance)", 0.01, 1000.0, log=True),
        Param("embed_dim", "int", 0, "width of a linear embedding the loss acts on (0: the backbone features, "
              "as the paper's coherence acts on a layer of the network)", 0, 8192),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), the same for both frames", 0.05, 1.0),
    ]

    def tuple_loss(self, z):
        return coherence_loss(z, self.hparams["margin"])

    @torch.no_grad()
    def input_preview(self, x):
        pairs = to_float(self.tuples(x, torch.Generator().manual_seed(0)))
        other = torch.stack([pairs[:, 0], pairs[:, 0].roll(1, dims=0)], dim=1)
        return {"neighbours (pulled together)": tile_frames(pairs),
                "another clip (pushed apart)": tile_frames(other)}
