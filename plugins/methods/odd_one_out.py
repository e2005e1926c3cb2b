"""Odd-one-out networks: self-supervised video representation learning by finding the
sub-sequence whose frames are out of order (Fernando, Bilen, Gavves & Gould, 2017)."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    SampleKind,
    augment_clips,
    classification_loss,
    gather_frames,
    need_frames,
    normalize,
    register_method,
    sorted_frames,
    tile_frames,
    to_float,
)


def odd_questions(x: torch.Tensor, elements: int, length: int, gen: torch.Generator):
    """x: (N, T, 3, H, W) -> questions (N, Q, L, 3, H, W) and the odd element's index (N,).

    Every element is ``length`` frames of the clip at random increasing positions; in the odd
    one they are shuffled into any other order (never the increasing one)."""
    n, t = x.shape[:2]
    idx = torch.stack([sorted_frames(n, t, length, gen) for _ in range(elements)], dim=1)  # (N, Q, L)
    odd = torch.randint(elements, (n,), generator=gen)
    perm = torch.rand(n, length, generator=gen).argsort(dim=1)
    same = (perm == torch.arange(length)).all(dim=1)
    perm[same] = perm[same].flip(1)  # the identity is not a shuffle: reversed instead
    rows = torch.arange(n)
    idx[rows, odd] = idx[rows, odd].gather(1, perm)
    frames = gather_frames(x, idx.flatten(1)).view(n, elements, length, *x.shape[2:])
    return frames, odd.to(x.device)


@register_method
class OddOneOut(MethodPlugin):
    id = "odd_one_out"
    title = "Odd-one-out (O3N)"
    summary = ("A question is several sub-sequences of one clip: all but one have their frames in time order, "
               "one is shuffled. The same network encodes every sub-sequence (frame features kept in order), "
               "a classifier on their concatenation names the odd one. Comparing the elements makes the network "
               "reason about how things move.")
    citation = "Fernando, Bilen, Gavves & Gould, 2017 (CVPR)"
    # chance 1/Q, Q = elements
    accuracy_key = "odd_acc"
    input_kind = SampleKind.CLIP
    params = [
        Param("elements", "int", 6, "sub-sequences per question (the paper's six), one of them odd", 2, 16),
        Param("element_frames", "int", 6, "frames per sub-sequence", 2, 64),
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction), one per question", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        q, length = p["elements"], p["element_frames"]
        # concatenation fusion: each element's per-frame features in order, all elements side by side
        self.head = nn.Linear(q * length * backbone.frame_dims, q)

    def questions(self, x):
        p = self.hparams
        need_frames(x, p["element_frames"], "odd-one-out")
        frames, odd = odd_questions(x, p["elements"], p["element_frames"], self.gen)
        flat = to_float(frames).flatten(1, 2)  # (N, Q*L, 3, H, W): one crop per question
        out = augment_clips(flat, self.image_size, (p["crop_min"], 1.0), 0.5, gen=self.gen)
        return out.view(*frames.shape[:3], *out.shape[2:]), odd

    def training_step(self, x, y=None):
        frames, odd = self.questions(x)
        n = len(frames)
        f = self.backbone.frame_features(normalize(frames.flatten(0, 1)))  # (N*Q, L, F)
        loss, metrics = classification_loss(self.head(f.reshape(n, -1)), odd, "odd_acc")
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        p = self.hparams
        frames, odd = odd_questions(x, p["elements"], p["element_frames"], torch.Generator().manual_seed(0))
        rows = torch.arange(len(x), device=x.device)
        even = (odd + 1) % p["elements"]
        return {"an element in order": tile_frames(to_float(frames[rows, even])),
                "the odd element (shuffled)": tile_frames(to_float(frames[rows, odd]))}
