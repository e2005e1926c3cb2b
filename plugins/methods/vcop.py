"""VCOP: self-supervised spatiotemporal learning via video clip order prediction
(Xu, Xiao, Zhao, Shao, Xie & Zhuang, 2019)."""
from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    SampleKind,
    augment_clips,
    classification_loss,
    need_frames,
    normalize,
    register_method,
    tile_frames,
    to_float,
)


def permutations(k: int) -> torch.Tensor:
    """(k!, k) int64: every order of k clips, the class of order i being its row."""
    return torch.tensor(list(itertools.permutations(range(k))), dtype=torch.int64)


def shuffled_clips(x: torch.Tensor, tuple_len: int, clip_len: int, interval: int, orders: torch.Tensor,
                   gen: torch.Generator):
    """x: (N, T, 3, H, W) -> clips (N, K, L, 3, H, W) in a random order, and the order's class (N,).

    K clips of L frames, ``interval`` frames apart, start at a random frame of each clip;
    they are then shuffled by a uniformly drawn permutation, which is the label."""
    n, t = x.shape[:2]
    span = tuple_len * clip_len + (tuple_len - 1) * interval
    start = torch.randint(t - span + 1, (n,), generator=gen)
    offsets = torch.tensor([k * (clip_len + interval) + i for k in range(tuple_len) for i in range(clip_len)])
    cls = torch.randint(len(orders), (n,), generator=gen)
    clip_order = orders[cls]                                                  # (N, K)
    frame_idx = start[:, None, None] + offsets.view(tuple_len, clip_len)[clip_order]  # (N, K, L)
    frames = x[torch.arange(n, device=x.device)[:, None], frame_idx.flatten(1).to(x.device)]
    return frames.view(n, tuple_len, clip_len, *x.shape[2:]), cls.to(x.device)


class PairwiseOrderHead(nn.Module):
    """VCOP's head: each pair (i < j) of clip features concatenated -> Linear(2F, 512) + ReLU;
    all pairs concatenated -> dropout -> Linear -> K! logits. (N, K, F) -> (N, K!)."""

    def __init__(self, features: int, k: int, hidden: int = 512, dropout: float = 0.5):
        super().__init__()
        self.pairs = list(itertools.combinations(range(k), 2))
        self.pair = nn.Linear(2 * features, hidden)
        self.out = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden * len(self.pairs), len(list(itertools.permutations(range(k))))))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        pairs = [F.relu(self.pair(torch.cat([f[:, i], f[:, j]], dim=1))) for i, j in self.pairs]
        return self.out(torch.cat(pairs, dim=1))


@register_method
class VCOP(MethodPlugin):
    id = "vcop"
    title = "Clip order prediction (VCOP)"
    summary = ("A few short clips are cut from one video at fixed intervals and shuffled; a 3-D network encodes "
               "each clip and a pairwise head predicts which of the K! orders they are in. Telling clips apart in "
               "time needs their motion, not single frames.")
    citation = "Xu, Xiao, Zhao, Shao, Xie & Zhuang, 2019 (CVPR)"
    # chance 1/K!, K = tuple_len
    accuracy_key = "vcop_acc"
    input_kind = SampleKind.CLIP
    params = [
        Param("tuple_len", "int", 3, "clips per tuple, K (K! order classes)", 2, 5),
        Param("clip_len", "int", 16, "frames per clip", 1, 64),
        Param("interval", "int", 8, "frames between successive clips", 0, 64),
        Param("dropout", "float", 0.5, "dropout before the order classifier", 0.0, 0.9),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), one per tuple", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.register_buffer("orders", permutations(p["tuple_len"]), persistent=False)
        self.head = PairwiseOrderHead(backbone.num_features, p["tuple_len"], dropout=p["dropout"])

    def clips(self, x, gen):
        p = self.hparams
        need_frames(x, p["tuple_len"] * p["clip_len"] + (p["tuple_len"] - 1) * p["interval"], "VCOP")
        return shuffled_clips(x, p["tuple_len"], p["clip_len"], p["interval"], self.orders.cpu(), gen)

    def training_step(self, x, y=None):
        clips, cls = self.clips(x, self.gen)
        n, k, length = clips.shape[:3]
        flat = augment_clips(to_float(clips).flatten(1, 2), self.image_size, (self.hparams["crop_min"], 1.0),
                             0.5, gen=self.gen)
        f = self.backbone.forward_features(normalize(flat.view(n * k, length, *flat.shape[2:])))
        loss, metrics = classification_loss(self.head(f.view(n, k, -1)), cls, "vcop_acc")
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        clips, cls = self.clips(x, torch.Generator().manual_seed(0))
        order = self.orders.to(cls.device)[cls]                          # (N, K): shown position -> clip
        in_order = clips.gather(1, order.argsort(1).view(*order.shape, 1, 1, 1, 1).expand_as(clips))
        return {"clips in order": tile_frames(to_float(in_order.flatten(1, 2))),
                "shuffled (the input)": tile_frames(to_float(clips.flatten(1, 2)))}
