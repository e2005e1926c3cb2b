"""BYOL: bootstrap your own latent (Grill et al., 2020). An online network with a predictor
regresses the projection of the other view made by a target network, the online network's
EMA. No negatives; the predictor and the slow target prevent collapse."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    MomentumPair,
    Param,
    TwoViewMethod,
    mlp_head,
    momentum_params,
    pair_retrieval_accuracy,
    register_method,
    view_params,
)


def byol_loss(p1: torch.Tensor, p2: torch.Tensor, t1: torch.Tensor, t2: torch.Tensor):
    """Symmetrised normalised regression, ``2 - 2 cos(p, t)`` per pair.

    p1, p2: (N, D) online predictions for views 1 and 2; t1, t2: (N, D) target projections
    of views 1 and 2 (no gradient). p1 regresses t2 and p2 regresses t1. Returns ``(loss,
    metrics)``, loss in [0, 8]; ``metrics["cosine"]``: the mean prediction-target cosine."""
    c12 = F.cosine_similarity(p1.float(), t2.detach().float(), dim=1)
    c21 = F.cosine_similarity(p2.float(), t1.detach().float(), dim=1)
    loss = (2 - 2 * c12).mean() + (2 - 2 * c21).mean()
    return loss, {"cosine": ((c12.mean() + c21.mean()) / 2).detach()}


@register_method
class BYOL(TwoViewMethod):
    id = "byol"
    title = "BYOL"
    summary = ("Bootstrap your own latent: the online network (backbone, projector, predictor) predicts "
               "the target network's projection of the other view. The target is an exponential moving "
               "average of the online network whose momentum rises from its base value to 1 on a cosine "
               "schedule. Works without negatives and is robust to small batches.")
    citation = "Grill et al., 2020 (NeurIPS)"
    # no negatives: the predictions retrieve the other view's target among the batch's 2N - 1
    accuracy_key = "retrieval_acc"
    params = [
        Param("proj_hidden", "int", 1024, "hidden width of the projector and predictor (4096 in the paper)", 16, 8192),
        Param("proj_dim", "int", 256, "output dimension of the projector and predictor", 8, 4096),
        *momentum_params(0.996, "cosine"),  # BYOL: tau_base = 0.996, raised to 1 on a cosine
        *view_params(),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.projector = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"])
        self.predictor = mlp_head(p["proj_dim"], p["proj_hidden"], p["proj_dim"])
        self.momentum = MomentumPair({"backbone": backbone, "projector": self.projector},
                                     p["base_momentum"], p["momentum_schedule"])

    def training_step(self, x, y=None):
        v = self.both_views(x)
        z = self.projector(self.backbone.forward_features(v))
        p1, p2 = self.predictor(z).chunk(2)
        with torch.no_grad():
            t1, t2 = self.momentum["projector"](self.momentum["backbone"].forward_features(v)).chunk(2)
        loss, metrics = byol_loss(p1, p2, t1, t2)
        return {"loss": loss, **metrics, "retrieval_acc": pair_retrieval_accuracy(p1, p2, t1, t2),
                "momentum": self.momentum.momentum}

    def on_step_end(self, progress):
        self.momentum.update(progress)
