"""Barlow Twins: self-supervised learning via redundancy reduction (Zbontar, Jing, Misra,
LeCun & Deny, 2021)."""
from __future__ import annotations

import torch

from engine.api import Param, ProjectedPairMethod, register_method, view_params


def standardize(z: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """z: (N, D) -> each dimension centred and scaled to unit variance over the batch."""
    return (z - z.mean(0)) / (z.std(0, unbiased=False) + eps)


def barlow_twins_loss(z1: torch.Tensor, z2: torch.Tensor, lambda_: float = 5e-3):
    """Push the cross-correlation matrix of the two views' embeddings to the identity.

    z1, z2: (N, D) projections of two views. C = standardize(z1)^T standardize(z2) / N is
    (D, D); loss = sum_i (1 - C_ii)^2 + lambda_ * sum_{i != j} C_ij^2. Returns ``(loss,
    metrics)`` with the two unweighted terms ``invariance`` and ``redundancy``."""
    n, d = z1.shape
    c = standardize(z1.float()).T @ standardize(z2.float()) / n
    diag = torch.diagonal(c)
    invariance = (1 - diag).pow(2).sum()
    redundancy = c.pow(2).sum() - diag.pow(2).sum()
    loss = invariance + lambda_ * redundancy
    return loss, {"invariance": invariance.detach(), "redundancy": redundancy.detach()}


@register_method
class BarlowTwins(ProjectedPairMethod):
    id = "barlow_twins"
    title = "Barlow Twins"
    summary = ("Makes the cross-correlation matrix between the embeddings of two views close to the "
               "identity: diagonal terms make them invariant to augmentation, off-diagonal terms "
               "decorrelate the dimensions so no information is duplicated. No negatives, no momentum; "
               "benefits from a wide projector.")
    citation = "Zbontar, Jing, Misra, LeCun & Deny, 2021 (ICML)"
    params = [
        Param("lambda_", "float", 5e-3, "weight of the off-diagonal (redundancy) term", 0.0, 1.0, log=True),
        Param("proj_hidden", "int", 1024, "hidden width of the 3-layer projector (8192 in the paper)", 16, 16384),
        Param("proj_dim", "int", 1024, "output dimension of the projector (8192 in the paper)", 8, 16384),
        *view_params(),
    ]

    def pair_loss(self, z1, z2):
        return barlow_twins_loss(z1, z2, self.hparams["lambda_"])
