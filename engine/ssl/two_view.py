"""What the joint-embedding methods share: two augmented views of every image (SimCLR,
MoCo, BYOL, SimSiam, Barlow Twins, VICReg), drawn by one seeded batched recipe whose
parameters (``view_params``) sit in each method's schema; and the step that Barlow Twins and
VICReg share, one projector on both views and a loss on the pair."""
from __future__ import annotations

import torch

from engine.ssl.augment import recipe_from
from engine.ssl.heads import mlp_head
from engine.ssl.method import MethodPlugin
from engine.ssl.metrics import pair_chance, pair_retrieval_accuracy


class TwoViewMethod(MethodPlugin):
    @classmethod
    def accuracy_chance(cls, params: dict, batch_size: int) -> float | None:
        return pair_chance(batch_size)  # 2N - 1 candidates (MoCo overrides: 1 + K)

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


class ProjectedPairMethod(TwoViewMethod):
    """Both views through the backbone and one projector, then ``pair_loss(z1, z2)``: no
    negatives, no predictor, no momentum encoder (Barlow Twins, Zbontar et al., 2021;
    VICReg, Bardes et al., 2022). The schema has ``proj_hidden`` and ``proj_dim``.

    Without negatives there is no contrastive task to score: ``retrieval_acc`` is SimCLR's
    ranking (the other view's projection first among the batch's 2N - 1) on the projections
    the loss compares."""

    accuracy_key = "retrieval_acc"

    projector_layers = 3  # both papers' 3-layer projector ("expander" in VICReg)

    def __init__(self, backbone, image_size: int = 32, num_classes: int | None = None, **params):
        super().__init__(backbone, image_size, num_classes, **params)
        self.projector = mlp_head(backbone.num_features, params["proj_hidden"], params["proj_dim"],
                                  layers=self.projector_layers)

    def pair_loss(self, z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, dict]:
        """z1, z2: (N, proj_dim) projections of the two views -> (loss, metrics); the
        subclass calls its pure loss function with its parameters."""
        raise NotImplementedError

    def training_step(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict:
        """x: (N, 3, H, W) uint8 -> {"loss", the loss's terms, "retrieval_acc"}."""
        z1, z2 = self.projector(self.backbone.forward_features(self.both_views(x))).chunk(2)
        loss, metrics = self.pair_loss(z1, z2)
        return {"loss": loss, **metrics, "retrieval_acc": pair_retrieval_accuracy(z1, z2)}
