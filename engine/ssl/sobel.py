"""Sobel input: a fixed linear map from colour to edges (Bojanowski & Joulin, 2017; Caron et
al., 2018, DeepCluster), so that instance-level targets cannot be met from colour alone."""
from __future__ import annotations

import torch
import torch.nn.functional as F

_GRAY = (0.299, 0.587, 0.114)
_KERNELS = torch.tensor([[[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]],
                         [[-1.0, -2.0, -1.0], [0.0, 0.0, 0.0], [1.0, 2.0, 1.0]]])


def sobel(x: torch.Tensor) -> torch.Tensor:
    """x: (N, 3, H, W) -> (N, 3, H, W): horizontal and vertical Sobel responses of the
    grey image in channels 0 and 1, zeros in channel 2 (the backbones take three channels)."""
    gray = sum(w * x[:, c:c + 1] for c, w in enumerate(_GRAY))
    # replicated borders: zero padding would make edges of the image's absolute brightness
    edges = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), _KERNELS.to(x)[:, None])
    return torch.cat([edges, torch.zeros_like(gray)], dim=1)
