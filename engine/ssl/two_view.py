"""What the joint-embedding methods share: two augmented views of every image (SimCLR,
MoCo, BYOL, SimSiam, Barlow Twins, VICReg), drawn by one seeded batched recipe whose
parameters (``view_params``) sit in each method's schema."""
from __future__ import annotations

import torch

from engine.ssl.augment import recipe_from
from engine.ssl.method import MethodPlugin


class TwoViewMethod(MethodPlugin):
    def __init__(self, backbone, image_size: int = 32, num_classes: int | None = None, **params):
        super().__init__(backbone, image_size, num_classes, **params)
        self.recipe = recipe_from(params, image_size)

    def views(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: (N, 3, H, W) uint8 -> two normalised views (N, 3, H, W) each."""
        return self.recipe(x, self.gen), self.recipe(x, self.gen)

    def both_views(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) uint8 -> (2N, 3, H, W): view 1 of every image, then view 2, so
        one backbone pass serves both (``.chunk(2)`` splits the outputs again)."""
        return torch.cat(self.views(x))

    @torch.no_grad()
    def input_preview(self, x: torch.Tensor) -> dict:
        return {"original": x.float() / 255,
                "view 1": self.recipe(x, self.gen, norm=False), "view 2": self.recipe(x, self.gen, norm=False)}
