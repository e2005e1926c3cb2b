"""RotNet: unsupervised representation learning by predicting image rotations
(Gidaris, Singh & Komodakis, 2018)."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    classification_loss,
    mlp_head,
    normalize,
    register_method,
    resized_crop,
    to_float,
)

ANGLES = (0, 90, 180, 270)


def rotate_batch(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """x: (N, C, H, W) with H == W -> (4N, C, H, W) every image in the four rotations
    (all 0 deg first, then 90, 180, 270 counter-clockwise) and their labels (4N,) in 0..3."""
    views = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
    labels = torch.arange(4, device=x.device).repeat_interleave(x.shape[0])
    return views, labels


@register_method
class Rotation(MethodPlugin):
    id = "rotation"
    title = "Rotation prediction (RotNet)"
    summary = ("Every image is shown at 0, 90, 180 and 270 degrees and the network must tell which. "
               "To recognise the upright pose it has to find the object and its parts, so it learns "
               "object-level features; the four rotations of an image are in the same batch, as the "
               "paper recommends.")
    citation = "Gidaris, Singh & Komodakis, 2018 (ICLR)"
    accuracy_key = "rotation_acc"
    chance = 0.25
    params = [
        Param("head_hidden", "int", 0, "hidden width of the rotation classifier (0: linear, as on CIFAR in the paper)", 0, 8192),
        Param("crop_min", "float", 0.6, "smallest random crop (area fraction) before rotating; 1 turns cropping off", 0.05, 1.0),
        Param("flip_p", "float", 0.5, "probability of a horizontal flip before rotating", 0.0, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        f = backbone.num_features
        self.head = mlp_head(f, p["head_hidden"], 4) if p["head_hidden"] else nn.Linear(f, 4)

    def augment(self, x):
        """x: uint8 (N, 3, H, W) -> float (N, 3, S, S) in [0, 1], lightly cropped and flipped."""
        p = self.hparams
        return resized_crop(to_float(x), self.image_size, (p["crop_min"], 1.0), (1.0, 1.0), p["flip_p"], self.gen)

    def training_step(self, x, y=None):
        views, labels = rotate_batch(self.augment(x))
        logits = self.head(self.backbone.forward_features(normalize(views)))
        loss, metrics = classification_loss(logits, labels, "rotation_acc")
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        views, _ = rotate_batch(self.augment(x))
        return {f"{a} deg": v for a, v in zip(ANGLES, views.chunk(4))}
