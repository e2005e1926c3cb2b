"""Exemplar-CNN: discriminative unsupervised feature learning with convolutional neural
networks (Dosovitskiy, Springenberg, Riedmiller & Brox, 2014)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    InstanceIds,
    MethodPlugin,
    Param,
    classification_loss,
    mlp_head,
    recipe_from,
    register_method,
    to_float,
    view_params,
)


@register_method
class Exemplar(MethodPlugin):
    id = "exemplar"
    title = "Exemplar-CNN"
    summary = ("Every image is its own class: the network must recognise an image after strong random "
               "cropping, scaling, flipping and colour changes among up to N others. Each image gets its "
               "own class the first time it is seen (known by a hash of its pixels, so no dataset "
               "index is needed); beyond N images, classes are shared.")
    citation = "Dosovitskiy, Springenberg, Riedmiller & Brox, 2014 (NeurIPS)"
    # chance 1/K, K = exemplars
    accuracy_key = "exemplar_acc"
    params = [
        Param("exemplars", "int", 8000, "number N of surrogate classes, one per image (8000 in the paper; set it to the dataset "
              "size); images beyond the first N share classes", 2, 1000000),
        Param("copies", "int", 1, "transformed samples of every image per batch (the paper draws many samples per "
              "surrogate class; each copy costs one more forward pass)", 1, 64),
        Param("cosine_temperature", "float", 0.0, "0: the paper's linear softmax; > 0: a cosine classifier, "
              "features and class weights L2-normalised and logits divided by this temperature (the "
              "normalised softmax of Wu et al., 2018)", 0.0, 10.0),
        Param("head_hidden", "int", 0, "hidden width of the classifier (0: linear softmax, as in the paper)", 0, 8192),
        *view_params(),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.recipe = recipe_from(p, image_size)
        f, k = backbone.num_features, p["exemplars"]
        self.classifier = mlp_head(f, p["head_hidden"], k) if p["head_hidden"] else nn.Linear(f, k)
        self.classes = InstanceIds(k)  # image -> its own surrogate class

    def training_step(self, x, y=None):
        copies = self.hparams["copies"]
        ids = self.classes(x).repeat(copies)  # look each image up once
        x = x.repeat(copies, 1, 1, 1)   # (copies * N, 3, H, W), each copy transformed anew
        logits = self.logits(self.backbone.forward_features(self.recipe(x, self.gen)))
        loss, metrics = classification_loss(logits, ids, "exemplar_acc")
        return {"loss": loss, **metrics}

    def logits(self, f: torch.Tensor) -> torch.Tensor:
        """f: (N, F) backbone features -> (N, K) class scores."""
        t = self.hparams["cosine_temperature"]
        if not t:
            return self.classifier(f)
        h = F.normalize(self.classifier[:-1](f) if self.hparams["head_hidden"] else f, dim=1)
        last = self.classifier[-1] if self.hparams["head_hidden"] else self.classifier
        return h @ F.normalize(last.weight, dim=1).T / t

    @torch.no_grad()
    def input_preview(self, x):
        return {"original": to_float(x), "transformed": self.recipe(x, self.gen, norm=False)}
