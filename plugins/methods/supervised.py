"""Supervised reference: the same backbone trained with labels, the row every
self-supervised method is compared to (e.g. Table 1 of Kolesnikov, Zhai & Beyer, 2019)."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    MethodPlugin,
    ParamError,
    classification_loss,
    normalize,
    register_method,
    supervised_params,
    resized_crop,
    to_float,
)


@register_method
class Supervised(MethodPlugin):
    id = "supervised"
    title = "Supervised (reference)"
    summary = ("Plain cross-entropy on the labels of the train split with light augmentation "
               "(random crop and flip). Not self-supervised: the upper reference that pretext "
               "methods are measured against, with the same backbone and budget.")
    citation = "He et al., 2016 (the standard CIFAR recipe: crop + flip, cross-entropy)"
    needs_labels = True
    accuracy_key = "train_acc"
    params = supervised_params()

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        if not num_classes:
            raise ParamError("the supervised method needs a labeled dataset (number of classes unknown)")
        self.classifier = nn.Linear(backbone.num_features, num_classes)

    def augment(self, x):
        """x: uint8 (N, 3, H, W) -> float (N, 3, S, S) in [0, 1], randomly cropped and flipped."""
        p = self.hparams
        return resized_crop(to_float(x), self.image_size, (p["crop_min"], 1.0), flip_p=p["flip_p"], gen=self.gen)

    def training_step(self, x, y=None):
        if y is None:
            raise ParamError("the supervised method was given a batch without labels")
        logits = self.classifier(self.backbone.forward_features(normalize(self.augment(x))))
        loss, metrics = classification_loss(logits, y, "train_acc", self.hparams["label_smoothing"])
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        return {"original": to_float(x), "augmented": self.augment(x)}
