"""What the temporal-coherence methods share: a tuple of ``tuple_frames`` frames of every
clip, ``gap`` frames apart from a uniformly drawn start, cropped alike, each frame encoded
alone by the clip backbone and optionally embedded linearly; the subclass scores the
(N, tuple_frames, D) embeddings with its pure loss function.

Slow features (Mobahi, Collobert & Weston, 2009) score pairs, slow and steady features
(Jayaraman & Grauman, 2016) triplets. Subclasses declare ``gap``, ``embed_dim`` and
``crop_min`` in their schema.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.capabilities import SampleKind
from engine.ssl.augment import normalize, to_float
from engine.ssl.clips import as_single_frames, augment_clips, gather_frames, need_frames
from engine.ssl.method import MethodPlugin


def spaced_frames(x: torch.Tensor, count: int, gap: int, gen: torch.Generator) -> torch.Tensor:
    """x: (N, T, 3, H, W) -> (N, count, 3, H, W): frames t, t + gap, ..., t + (count - 1) gap
    of every clip, t uniform among the starts that fit."""
    n, t = x.shape[:2]
    start = torch.randint(t - (count - 1) * gap, (n,), generator=gen)
    return gather_frames(x, start[:, None] + torch.arange(count) * gap)


class FrameTupleMethod(MethodPlugin):
    input_kind = SampleKind.CLIP
    tuple_frames = 2    # frames per tuple
    task_name = ""      # how a refusal names the method ("slow features")

    def __init__(self, backbone, image_size: int = 32, num_classes: int | None = None, **params):
        super().__init__(backbone, image_size, num_classes, **params)
        f = backbone.frame_dims  # each frame is encoded alone, whatever the backbone's clip pooling
        self.embedding = nn.Linear(f, params["embed_dim"]) if params["embed_dim"] else nn.Identity()

    def tuples(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        """x: (N, T, 3, H, W) uint8 -> (N, tuple_frames, 3, H, W) uint8 (``spaced_frames``)."""
        need_frames(x, (self.tuple_frames - 1) * self.hparams["gap"] + 1, self.task_name)
        return spaced_frames(x, self.tuple_frames, self.hparams["gap"], gen)

    def tuple_loss(self, z: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """z: (N, tuple_frames, D) embeddings -> (loss, metrics); the subclass calls its pure
        loss function with its parameters."""
        raise NotImplementedError

    def training_step(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict:
        """x: (N, T, 3, H, W) uint8 -> {"loss", the loss's metrics}: one crop per tuple."""
        frames = augment_clips(to_float(self.tuples(x, self.gen)), self.image_size,
                               (self.hparams["crop_min"], 1.0), 0.5, gen=self.gen)
        f = self.backbone.frame_features(normalize(as_single_frames(frames)))[:, 0]   # (N*K, frame_dims)
        loss, metrics = self.tuple_loss(self.embedding(f).view(len(x), self.tuple_frames, -1))
        return {"loss": loss, **metrics}
