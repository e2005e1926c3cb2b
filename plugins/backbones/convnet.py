"""A small VGG-style CNN, fast enough to pre-train on a laptop CPU."""
from __future__ import annotations

import torch
from torch import nn

from engine.params import Param
from engine.registry import register_backbone


def _block(cin, cout, pool):
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


@register_backbone
class ConvNet(nn.Module):
    id = "convnet"
    title = "Small ConvNet"
    summary = ("Four 3x3 conv-BN-ReLU stages of doubling width with max-pooling between them, "
               "global average pooling on top. A few hundred thousand parameters: the CPU-friendly "
               "default for 32-64 px images.")
    citation = "Simonyan & Zisserman, 2015 (VGG-style blocks)"
    params = [Param("width", "int", 32, "channels of the first stage (doubled each stage)", 8, 256)]

    def __init__(self, image_size: int = 32, width: int = 32):
        super().__init__()
        w = width
        self.stem = _block(3, w, pool=False)
        self.layers = nn.ModuleList([_block(w, w * 2, True), _block(w * 2, w * 4, True),
                                     _block(w * 4, w * 8, True)])
        self.num_features = w * 8

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (N, 3, H, W) -> feature maps after the stem and each stage."""
        out = [self.stem(x)]
        for layer in self.layers:
            out.append(layer(out[-1]))
        return out

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) -> (N, num_features) pooled features."""
        return self.stages(x)[-1].mean(dim=(2, 3))

    forward = forward_features
