"""Supervised reference for clips: a clip backbone trained with the clips' labels, the row
the video methods are compared to (Misra et al., 2016, Table 1; Xu et al., 2019, Table 3:
the same network trained on labels)."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    MethodPlugin,
    ParamError,
    SampleKind,
    augment_clips,
    classification_loss,
    normalize,
    register_method,
    supervised_params,
    tile_frames,
    to_float,
)


@register_method
class SupervisedClip(MethodPlugin):
    id = "supervised_clip"
    title = "Supervised clips (reference)"
    summary = ("Cross-entropy on the train split's clip labels, with one random crop and flip per clip (the "
               "same in all its frames). Not self-supervised: the upper reference for the video methods, "
               "with the same clip backbone and budget.")
    citation = "Misra et al., 2016; Xu et al., 2019 (the supervised rows of their tables)"
    input_kind = SampleKind.CLIP
    needs_labels = True
    accuracy_key = "train_acc"
    params = supervised_params()

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        if not num_classes:
            raise ParamError("the supervised clip method needs a labeled dataset (number of classes unknown)")
        self.classifier = nn.Linear(backbone.num_features, num_classes)

    def augment(self, x, gen):
        """x: uint8 (N, T, 3, H, W) -> float (N, T, 3, S, S) in [0, 1], one crop and flip per clip."""
        p = self.hparams
        return augment_clips(to_float(x), self.image_size, (p["crop_min"], 1.0), p["flip_p"], gen=gen)

    def training_step(self, x, y=None):
        if y is None:
            raise ParamError("the supervised clip method was given a batch without labels")
        logits = self.classifier(self.backbone.forward_features(normalize(self.augment(x, self.gen))))
        loss, metrics = classification_loss(logits, y, "train_acc", self.hparams["label_smoothing"])
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        return {"original": tile_frames(to_float(x)),
                "augmented": tile_frames(self.augment(x, torch.Generator().manual_seed(0)))}
