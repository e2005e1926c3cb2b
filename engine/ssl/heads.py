"""Projection and prediction heads shared by the joint-embedding methods."""
from __future__ import annotations

from torch import nn


def mlp_head(in_dim: int, hidden_dim: int, out_dim: int, layers: int = 2,
             last_bn: bool = False, bn: bool = True, act: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """Linear-BN-ReLU blocks then a linear output: the SimCLR projector (Chen et al., 2020)
    with ``layers=2``; BYOL/SimSiam predictors use the same shape. ``bn=False``: Linear-act
    blocks (MoCo v2's head; DINO's with ``act=nn.GELU``)."""
    mods: list[nn.Module] = []
    dim = in_dim
    for _ in range(layers - 1):
        if bn:
            mods += [nn.Linear(dim, hidden_dim, bias=False), nn.BatchNorm1d(hidden_dim), act()]
        else:
            mods += [nn.Linear(dim, hidden_dim), act()]
        dim = hidden_dim
    mods.append(nn.Linear(dim, out_dim, bias=not last_bn))
    if last_bn:
        mods.append(nn.BatchNorm1d(out_dim, affine=False))
    return nn.Sequential(*mods)
