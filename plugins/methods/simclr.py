"""SimCLR: a simple framework for contrastive learning of visual representations
(Chen, Kornblith, Norouzi & Hinton, 2020)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    Param,
    TwoViewMethod,
    contrastive_accuracy,
    gather_with_grad,
    mlp_head,
    register_method,
    view_params,
)


def nt_xent_loss(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.5):
    """Normalised-temperature cross-entropy over all 2N anchors.

    z1, z2: (N, D) projections of two views of the same N images. Each of the 2N embeddings
    is an anchor whose positive is the other view of its image and whose 2N - 2 negatives are
    the remaining embeddings (2N - 1 candidates in all). Returns ``(loss, metrics)``, metrics
    empty (the method logs ``contrastive_acc`` on the same logits' ranking)."""
    n = z1.shape[0]
    z = F.normalize(torch.cat([z1, z2]).float(), dim=1)
    logits = z @ z.T / temperature
    logits.fill_diagonal_(float("-inf"))  # an anchor is never its own candidate
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(z.device)
    loss = F.cross_entropy(logits, target)
    return loss, {}


@register_method
class SimCLR(TwoViewMethod):
    id = "simclr"
    title = "SimCLR"
    summary = ("Two augmented views of each image are pulled together and pushed away from every "
               "other image in the batch through a 2-layer projection head, with the NT-Xent "
               "(InfoNCE) loss. Needs large batches and strong colour augmentation.")
    citation = "Chen, Kornblith, Norouzi & Hinton, 2020 (ICML)"
    params = [
        Param("temperature", "float", 0.5, "softmax temperature tau of NT-Xent", 0.01, 10.0, log=True),
        Param("proj_hidden", "int", 512, "hidden width of the projection head", 16, 8192),
        Param("proj_dim", "int", 128, "output dimension of the projection head", 8, 4096),
        *view_params(),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.projector = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"])

    def training_step(self, x, y=None):
        v1, v2 = self.views(x)
        z = self.projector(self.backbone.forward_features(torch.cat([v1, v2])))
        z1, z2 = z.chunk(2)
        # Under torchrun every rank's images are negatives too (a no-op in one process).
        loss, metrics = nt_xent_loss(gather_with_grad(z1), gather_with_grad(z2), self.hparams["temperature"])
        # the positive first among the loss's 2N - 1 candidates (global: it gathers itself)
        return {"loss": loss, **metrics, "contrastive_acc": contrastive_accuracy(z1, z2)}
