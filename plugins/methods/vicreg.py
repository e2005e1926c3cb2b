"""VICReg: variance-invariance-covariance regularisation (Bardes, Ponce & LeCun, 2022)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import Param, ProjectedPairMethod, register_method, view_params


def _variance_term(z: torch.Tensor, eps: float = 1e-4) -> torch.Tensor:
    """Hinge on the per-dimension std: mean_j max(0, 1 - sqrt(Var(z_j) + eps))."""
    return F.relu(1 - torch.sqrt(z.var(dim=0) + eps)).mean()


def _covariance_term(z: torch.Tensor) -> torch.Tensor:
    """Sum of squared off-diagonal covariances, divided by the dimension D."""
    n, d = z.shape
    zc = z - z.mean(0)
    cov = zc.T @ zc / (n - 1)
    return (cov.pow(2).sum() - torch.diagonal(cov).pow(2).sum()) / d


def vicreg_loss(z1: torch.Tensor, z2: torch.Tensor, sim_weight: float = 25.0, var_weight: float = 25.0,
                cov_weight: float = 1.0):
    """z1, z2: (N, D) projections of two views, N >= 2.

    invariance: mean squared error between z1 and z2; variance: the std hinge of each
    branch, averaged over the two; covariance: off-diagonal covariance of each branch,
    summed. loss = sim_weight * invariance + var_weight * variance + cov_weight * covariance.
    Returns ``(loss, metrics)`` with the unweighted terms ``sim_loss``, ``var_loss``,
    ``cov_loss``."""
    z1, z2 = z1.float(), z2.float()
    sim = F.mse_loss(z1, z2)
    var = (_variance_term(z1) + _variance_term(z2)) / 2
    cov = _covariance_term(z1) + _covariance_term(z2)
    loss = sim_weight * sim + var_weight * var + cov_weight * cov
    return loss, {"sim_loss": sim.detach(), "var_loss": var.detach(), "cov_loss": cov.detach()}


@register_method
class VICReg(ProjectedPairMethod):
    id = "vicreg"
    title = "VICReg"
    summary = ("Three explicit terms on the embeddings of two views: invariance (mean squared distance), "
               "variance (keep each dimension's std above 1 over the batch, which prevents collapse) and "
               "covariance (decorrelate dimensions). No negatives, no momentum, no normalisation tricks.")
    citation = "Bardes, Ponce & LeCun, 2022 (ICLR)"
    params = [
        Param("sim_weight", "float", 25.0, "weight lambda of the invariance term", 0.0, 1000.0),
        Param("var_weight", "float", 25.0, "weight mu of the variance term", 0.0, 1000.0),
        Param("cov_weight", "float", 1.0, "weight nu of the covariance term", 0.0, 1000.0),
        Param("proj_hidden", "int", 1024, "hidden width of the 3-layer expander (8192 in the paper)", 16, 16384),
        Param("proj_dim", "int", 1024, "output dimension of the expander (8192 in the paper)", 8, 16384),
        *view_params(),
    ]

    def pair_loss(self, z1, z2):
        h = self.hparams
        return vicreg_loss(z1, z2, h["sim_weight"], h["var_weight"], h["cov_weight"])
