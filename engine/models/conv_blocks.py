"""The VGG block the small CNN backbones are built of (Simonyan & Zisserman, 2015):
``convs`` 3x3 convolutions (padding 1, no bias), each followed by BatchNorm and ReLU, then an
optional 2x2 max-pooling. (N, cin, H, W) -> (N, cout, H, W), or (N, cout, H/2, W/2) with
``pool``."""
from __future__ import annotations

from torch import nn


def vgg_block(cin: int, cout: int, convs: int = 1, pool: bool = False) -> nn.Sequential:
    """``convs`` conv-BN-ReLU layers, the first from ``cin`` channels, all to ``cout``; then
    ``nn.MaxPool2d(2)`` when ``pool``. Layers are numbered as in one flat ``nn.Sequential``."""
    layers: list[nn.Module] = []
    for a in [cin] + [cout] * (convs - 1):
        layers += [nn.Conv2d(a, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)
