"""Supervised reference: the same backbone trained with labels, the row every
self-supervised method is compared to (e.g. Table 1 of Kolesnikov, Zhai & Beyer, 2019)."""
from __future__ import annotations

import torch

from engine.api import SupervisedMethod, register_method, resized_crop, to_float


@register_method
class Supervised(SupervisedMethod):
    id = "supervised"
    title = "Supervised (reference)"
    summary = ("Plain cross-entropy on the labels of the train split with light augmentation "
               "(random crop and flip). Not self-supervised: the upper reference that pretext "
               "methods are measured against, with the same backbone and budget.")
    citation = "He et al., 2016 (the standard CIFAR recipe: crop + flip, cross-entropy)"

    def augment(self, x, gen=None):
        """x: uint8 (N, 3, H, W) -> float (N, 3, S, S) in [0, 1], randomly cropped and flipped."""
        p = self.hparams
        return resized_crop(to_float(x), self.image_size, (p["crop_min"], 1.0), flip_p=p["flip_p"],
                            gen=gen or self.gen)

    @torch.no_grad()
    def input_preview(self, x):
        return {"original": to_float(x), "augmented": self.augment(x)}
