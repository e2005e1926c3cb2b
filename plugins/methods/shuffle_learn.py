"""Shuffle and Learn: unsupervised learning using temporal order verification
(Misra, Zitnick & Hebert, 2016)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    SampleKind,
    as_single_frames,
    augment_clips,
    classification_loss,
    gather_frames,
    mlp_head,
    motion_energy,
    need_frames,
    normalize,
    register_method,
    sorted_frames,
    tile_frames,
    to_float,
)


def five_frames(n: int, t: int, gen: torch.Generator) -> torch.Tensor:
    """(n, 5) frame indices a < b < c < d < e of clips of ``t`` frames: b < c < d drawn among the
    inner frames, a before b and e after d uniformly, so the outer frames lie well outside."""
    inner = sorted_frames(n, t - 2, 3, gen) + 1                                   # b, c, d in 1..t-2
    a = (torch.rand(n, generator=gen) * inner[:, 0]).floor().long()               # 0..b-1
    e = inner[:, 2] + 1 + (torch.rand(n, generator=gen) * (t - 1 - inner[:, 2])).floor().long()
    return torch.cat([a[:, None], inner, e[:, None]], dim=1)


def order_tuples(x: torch.Tensor, gen: torch.Generator, positive_p: float, candidates: int):
    """x: (N, T, 3, H, W) -> tuples (N, 3, 3, H, W) and labels (N,) int64, 1 = in order.

    Five frames a < b < c < d < e are drawn per clip (``five_frames``), the most moving of
    ``candidates`` draws (high-motion windows, as the paper picks by optical flow). In-order
    tuples are (b, c, d); shuffled ones (b, a, d) or (b, e, d), whose middle frame lies
    outside the other two."""
    n, t = x.shape[:2]
    draws = [five_frames(n, t, gen) for _ in range(candidates)]
    energy = torch.stack([motion_energy(x, d[:, 1:4]).cpu() for d in draws])  # (candidates, N)
    idx = torch.stack(draws)[energy.argmax(0), torch.arange(n)]       # (N, 5)
    positive = torch.rand(n, generator=gen) < positive_p
    outer = torch.where(torch.rand(n, generator=gen) < 0.5, idx[:, 0], idx[:, 4])
    middle = torch.where(positive, idx[:, 2], outer)
    order = torch.stack([idx[:, 1], middle, idx[:, 3]], dim=1)
    return gather_frames(x, order), positive.long().to(x.device)


@register_method
class ShuffleLearn(MethodPlugin):
    id = "shuffle_learn"
    title = "Shuffle and Learn (order verification)"
    summary = ("Three frames of a clip are shown in order or with the middle one swapped for a frame from "
               "outside the other two; a siamese frame encoder and a small classifier on the three "
               "concatenated features must tell which. Frames come from the clip's most moving window, "
               "where order is visible, so the network learns what changes as things move.")
    citation = "Misra, Zitnick & Hebert, 2016 (ECCV)"
    # chance: the larger class's share (0.5 when balanced)
    accuracy_key = "order_acc"
    input_kind = SampleKind.CLIP
    params = [
        Param("positive_p", "float", 0.5, "share of in-order tuples in a batch", 0.05, 0.95),
        Param("candidates", "int", 4, "frame draws per clip, the most moving one kept (1: no motion selection)", 1, 64),
        Param("head_hidden", "int", 512, "hidden width of the classifier on the three concatenated frame features "
              "(0: linear)", 0, 8192),
        Param("grid", "int", 2, "side of the grid each frame's last feature map is pooled to for the classifier, "
              "which keeps where things are (the paper's fc layers read AlexNet's pool5 map; 1: global pooling)", 1, 8),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), the same for the three frames", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        f = 3 * backbone.frame_dims * p["grid"] ** 2
        self.head = mlp_head(f, p["head_hidden"], 2) if p["head_hidden"] else nn.Linear(f, 2)

    def tuples(self, x):
        need_frames(x, 5, "shuffle & learn")
        p = self.hparams
        tuples, labels = order_tuples(x, self.gen, p["positive_p"], p["candidates"])
        return augment_clips(to_float(tuples), self.image_size, (p["crop_min"], 1.0), 0.5, gen=self.gen), labels

    def training_step(self, x, y=None):
        tuples, labels = self.tuples(x)
        fmap = self.backbone.stages(normalize(as_single_frames(tuples)))[-1]   # (3N, C, 1, h, w)
        f = F.adaptive_avg_pool2d(fmap.squeeze(2), self.hparams["grid"])
        logits = self.head(f.reshape(len(labels), -1))
        loss, metrics = classification_loss(logits, labels, "order_acc")
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        need_frames(x, 5, "shuffle & learn")
        p = self.hparams  # the same draws twice: the same five frames, in order and shuffled
        pos, _ = order_tuples(x, torch.Generator().manual_seed(0), 1.0, p["candidates"])
        neg, _ = order_tuples(x, torch.Generator().manual_seed(0), 0.0, p["candidates"])
        return {"in order (b, c, d)": tile_frames(to_float(pos)), "shuffled (b, a|e, d)": tile_frames(to_float(neg))}
