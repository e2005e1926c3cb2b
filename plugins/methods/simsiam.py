"""SimSiam: exploring simple Siamese representation learning (Chen & He, 2021). BYOL
without the momentum encoder: a predictor and a stop-gradient on the other branch are
enough to avoid collapse."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    Param,
    TwoViewMethod,
    mlp_head,
    pair_retrieval_accuracy,
    register_method,
    view_params,
)


def simsiam_loss(p1: torch.Tensor, p2: torch.Tensor, z1: torch.Tensor, z2: torch.Tensor):
    """Symmetrised negative cosine with stop-gradient, ``-(cos(p1, sg(z2)) + cos(p2, sg(z1))) / 2``.

    p1, p2: (N, D) predictions for views 1 and 2; z1, z2: (N, D) projections of views 1 and 2
    (detached here: the stop-gradient). Returns ``(loss, metrics)``, loss in [-1, 1];
    ``metrics["output_std"]``: the per-dimension std of the l2-normalised projections,
    averaged over dimensions: 0 when collapsed, about 1/sqrt(D) when spread (Chen & He,
    2021, Fig. 2)."""
    c1 = F.cosine_similarity(p1.float(), z2.detach().float(), dim=1).mean()
    c2 = F.cosine_similarity(p2.float(), z1.detach().float(), dim=1).mean()
    with torch.no_grad():
        std = F.normalize(z1.float(), dim=1).std(dim=0).mean()
    return -(c1 + c2) / 2, {"output_std": std}


@register_method
class SimSiam(TwoViewMethod):
    id = "simsiam"
    title = "SimSiam"
    summary = ("Two views go through the same backbone and projector; a small predictor on one branch "
               "regresses the other branch's projection, which is held fixed by a stop-gradient. No "
               "negatives, no momentum encoder. output_std watches for collapse (0 = collapsed).")
    citation = "Chen & He, 2021 (CVPR)"
    # no negatives: the predictions retrieve the other view's projection among the batch's 2N - 1
    accuracy_key = "retrieval_acc"
    params = [
        Param("proj_hidden", "int", 512, "hidden width of the 3-layer projector (2048 in the paper)", 16, 8192),
        Param("proj_dim", "int", 512, "output dimension of the projector (2048 in the paper)", 8, 8192),
        Param("pred_hidden", "int", 128, "bottleneck width of the predictor (a quarter of proj_dim)", 4, 8192),
        *view_params(),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        # 3 layers with BN on the output, as in the paper's ImageNet projector
        self.projector = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"], layers=3, last_bn=True)
        self.predictor = mlp_head(p["proj_dim"], p["pred_hidden"], p["proj_dim"])

    def training_step(self, x, y=None):
        v = self.both_views(x)
        z = self.projector(self.backbone.forward_features(v))
        p1, p2 = self.predictor(z).chunk(2)
        z1, z2 = z.chunk(2)
        loss, metrics = simsiam_loss(p1, p2, z1, z2)
        return {"loss": loss, **metrics, "retrieval_acc": pair_retrieval_accuracy(p1, p2, z1, z2)}
