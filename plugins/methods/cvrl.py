"""CVRL: spatiotemporal contrastive video representation learning (Qian, Meng, Gong, Yang,
Wang, Belongie & Cui, 2021): two clips of one video are positives, InfoNCE."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    MethodPlugin,
    Param,
    SampleKind,
    augment_clips,
    contrastive_accuracy,
    gather_with_grad,
    mlp_head,
    need_frames,
    normalize,
    register_method,
    tile_frames,
    to_float,
)


def clip_pair_starts(n: int, max_start: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 2) start frames of two clips of each video. Their distance d follows CVRL's
    temporally consistent sampling, a density decreasing linearly from 0 to ``max_start``
    (P(d) proportional to max_start - d, drawn by inverting its CDF); the earlier clip is
    placed uniformly, and which one comes first is random."""
    d = (max_start * (1 - torch.rand(n, generator=gen).sqrt())).round().long()
    first = (torch.rand(n, generator=gen) * (max_start - d + 1)).floor().long()
    starts = torch.stack([first, first + d], dim=1)
    swap = torch.rand(n, generator=gen) < 0.5
    return torch.where(swap[:, None], starts.flip(1), starts)


def two_clips(x: torch.Tensor, frames: int, stride: int, gen: torch.Generator) -> torch.Tensor:
    """x: (N, T, 3, H, W) -> (N, 2, frames, 3, H, W): two clips of ``frames`` frames taken every
    ``stride`` frames, at starts from ``clip_pair_starts``."""
    n, t = x.shape[:2]
    span = (frames - 1) * stride + 1
    starts = clip_pair_starts(n, t - span, gen)                      # (N, 2)
    idx = starts[:, :, None] + torch.arange(frames) * stride          # (N, 2, frames)
    out = x[torch.arange(n, device=x.device)[:, None], idx.flatten(1).to(x.device)]
    return out.view(n, 2, frames, *x.shape[2:])


def info_nce_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.1):
    """z1, z2: (N, D) projections of two clips of N videos. InfoNCE over the 2N clips: each
    one's positive is the other clip of its video, the 2N - 2 others are negatives (as
    SimCLR's NT-Xent, which CVRL adopts). Returns (loss, {"contrastive_acc"}) (chance 1/N)."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    return F.cross_entropy(logits, target), {"contrastive_acc": contrastive_accuracy(z1, z2)}


@register_method
class CVRL(MethodPlugin):
    id = "cvrl"
    title = "CVRL (temporal contrastive)"
    summary = ("Two clips cut from the same video, nearer in time more often than not, are augmented with one "
               "crop and colour change per clip (the same in all its frames) and pulled together with InfoNCE, "
               "away from the clips of other videos. Learns what stays the same in a video over time.")
    citation = "Qian et al., 2021 (CVPR)"
    input_kind = SampleKind.CLIP
    params = [
        Param("clip_frames", "int", 16, "frames per clip", 1, 64),
        Param("frame_stride", "int", 2, "take every n-th frame", 1, 16),
        Param("temperature", "float", 0.1, "InfoNCE temperature", 0.01, 10.0, log=True),
        Param("proj_hidden", "int", 2048, "hidden width of the 3-layer projection head", 16, 8192),
        Param("proj_dim", "int", 128, "output dimension of the projection head", 8, 4096),
        Param("crop_min", "float", 0.3, "smallest random crop (area fraction)", 0.05, 1.0),
        Param("jitter", "float", 0.4, "colour jitter strength (brightness, contrast, saturation; hue a quarter)",
              0.0, 1.0),
        Param("gray_p", "float", 0.2, "probability of a grayscale clip", 0.0, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.projector = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"], layers=3)

    def views(self, x, gen):
        """x: (N, T, 3, H, W) uint8 -> two (N, frames, 3, S, S) float clips in [0, 1]."""
        p = self.hparams
        need_frames(x, (p["clip_frames"] - 1) * p["frame_stride"] + 1, "CVRL")
        pair = to_float(two_clips(x, p["clip_frames"], p["frame_stride"], gen)).flatten(0, 1)
        pair = augment_clips(pair, self.image_size, (p["crop_min"], 1.0), 0.5, p["jitter"], 0.8, p["gray_p"], gen)
        return pair.view(len(x), 2, *pair.shape[1:]).unbind(1)

    def training_step(self, x, y=None):
        v1, v2 = self.views(x, self.gen)
        z = self.projector(self.backbone.forward_features(normalize(torch.cat([v1, v2]))))
        z1, z2 = z.chunk(2)
        z1, z2 = gather_with_grad(z1), gather_with_grad(z2)
        loss, metrics = info_nce_loss(z1, z2, self.hparams["temperature"])
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        v1, v2 = self.views(x, torch.Generator().manual_seed(0))
        return {"clip 1": tile_frames(v1), "clip 2 (same video)": tile_frames(v2)}
