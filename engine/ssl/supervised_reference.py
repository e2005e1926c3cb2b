"""The supervised reference every pretext method is compared to: the same backbone trained with
the train split's labels (e.g. Table 1 of Kolesnikov, Zhai & Beyer, 2019; the supervised rows of
Misra et al., 2016 and Xu et al., 2019). Subclasses give the light augmentation of their input
kind (images or clips)."""
from __future__ import annotations

import torch
from torch import nn

from engine.params import Param, ParamError
from engine.ssl.augment import normalize
from engine.ssl.classification import classification_loss
from engine.ssl.method import MethodPlugin


class SupervisedMethod(MethodPlugin):
    needs_labels = True
    accuracy_key = "train_acc"
    params = [  # the standard CIFAR recipe's crop and flip (He et al., 2016)
        Param("crop_min", "float", 0.5, "smallest random crop (area fraction); 1 turns cropping off", 0.05, 1.0),
        Param("flip_p", "float", 0.5, "probability of a horizontal flip", 0.0, 1.0),
        Param("label_smoothing", "float", 0.0, "label smoothing of the cross-entropy (Szegedy et al., 2016)", 0.0, 0.5),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        if not num_classes:
            raise ParamError(f"the {self.id} method needs a labeled dataset (number of classes unknown)")
        self.classifier = nn.Linear(backbone.num_features, num_classes)

    def augment(self, x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
        """uint8 samples -> float in [0, 1] at ``image_size``, randomly cropped and flipped."""
        raise NotImplementedError

    def training_step(self, x, y=None):
        """x: uint8 (N, ...) samples, y: (N,) labels -> cross-entropy and ``train_acc``."""
        if y is None:
            raise ParamError(f"the {self.id} method was given a batch without labels")
        logits = self.classifier(self.backbone.forward_features(normalize(self.augment(x, self.gen))))
        loss, metrics = classification_loss(logits, y, "train_acc", self.hparams["label_smoothing"])
        return {"loss": loss, **metrics}
