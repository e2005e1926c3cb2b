"""A small spatio-temporal ConvNet for clips: (2+1)-D blocks, a 1x3x3 spatial convolution
followed by a 3x1x1 temporal one (Tran et al., 2018), or full 3x3x3 convolutions (C3D,
Tran et al., 2015). Space is pooled between stages, time is kept, so every frame keeps a
feature vector of its own (``frame_features``)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import ClipBackboneBase, Param, register_backbone


class TemporalConv(nn.Conv3d):
    """The 3x1x1 temporal convolution, zero-padded in time before the convolution rather than
    by it: oneDNN's bf16 Conv3d backward with its own time padding gives NaN weight gradients for
    2-frame inputs on AMD Zen CPUs (torch 2.14), which VCOP's 2-frame clips hit at once. The
    result is the same convolution; the parameters keep Conv3d's names."""

    def __init__(self, cin: int, cout: int):
        super().__init__(cin, cout, (3, 1, 1), 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, T, H, W) -> (N, cout, T, H, W)."""
        return super().forward(F.pad(x, (0, 0, 0, 0, 1, 1)))


def _conv(cin: int, cout: int, factorized: bool, stride: int) -> list[nn.Module]:
    """Conv-BN-ReLU over (N, C, T, H, W), spatial stride ``stride``; (2+1)-D when ``factorized``,
    with a middle width that keeps the parameter count of the 3-D kernel (Tran et al., 2018)."""
    s = (1, stride, stride)
    if not factorized:
        return [nn.Conv3d(cin, cout, 3, s, 1, bias=False), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)]
    mid = max(cout // 2, (27 * cin * cout) // (9 * cin + 3 * cout))
    return [nn.Conv3d(cin, mid, (1, 3, 3), s, (0, 1, 1), bias=False), nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
            TemporalConv(mid, cout), nn.BatchNorm3d(cout), nn.ReLU(inplace=True)]


@register_backbone
class R2Plus1D(ClipBackboneBase):
    id = "r2plus1d"
    title = "Small (2+1)-D ConvNet"
    summary = ("Four stages of doubling width, each a 1x3x3 spatial then a 3x1x1 temporal convolution "
               "(or one 3x3x3 convolution), halving space and keeping time. Per-frame features are the last "
               "map averaged over space; the clip's feature averages them over time. CPU-sized for 32-64 px.")
    citation = "Tran et al., 2018 (CVPR), R(2+1)D; Tran et al., 2015 (ICCV), C3D"
    params = [
        Param("width", "int", 32, "channels of the first stage (doubled each stage)", 8, 256),
        Param("factorized", "bool", True, "(2+1)-D blocks; off: full 3x3x3 convolutions"),
    ]

    def __init__(self, image_size: int = 32, width: int = 32, factorized: bool = True):
        super().__init__()
        w = width
        self.stem = nn.Sequential(*_conv(3, w, factorized, 1))
        self.layers = nn.ModuleList([nn.Sequential(*_conv(a, b, factorized, 2))
                                     for a, b in ((w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w))])
        self.frame_dims = self.num_features = 8 * w

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, 3, H, W) -> (N, T, 8 * width): the last map averaged over space."""
        m = x.transpose(1, 2)
        m = self.stem(m)
        for layer in self.layers:
            m = layer(m)
        return m.mean(dim=(3, 4)).transpose(1, 2)
