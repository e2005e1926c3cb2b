"""torchvision ResNets (He et al., 2016) with the small-image stem used for CIFAR in SimCLR:
a 3x3 stride-1 convolution and no max-pool when images are at most 64 px."""
from __future__ import annotations

import torchvision
from torch import nn

from engine.api import BackboneBase, Param, register_backbone

_SMALL = 64


class _ResNet(BackboneBase):
    arch = ""
    params = [Param("zero_init_residual", "bool", False, "start each residual branch at zero (Goyal et al., 2017)")]

    def __init__(self, image_size: int = 32, zero_init_residual: bool = False):
        super().__init__()
        net = getattr(torchvision.models, self.arch)(weights=None, zero_init_residual=zero_init_residual)
        if image_size <= _SMALL:
            net.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            net.maxpool = nn.Identity()
        self.stem = nn.Sequential(net.conv1, net.bn1, net.relu, net.maxpool)
        self.layers = nn.ModuleList([net.layer1, net.layer2, net.layer3, net.layer4])
        self.num_features = net.fc.in_features


@register_backbone
class ResNet18(_ResNet):
    id = "resnet18"
    title = "ResNet-18"
    arch = "resnet18"
    summary = "The 18-layer residual network, 11 M parameters, 512 features; the standard CIFAR backbone of SSL papers."
    citation = "He et al., 2016"


@register_backbone
class ResNet50(_ResNet):
    id = "resnet50"
    title = "ResNet-50"
    arch = "resnet50"
    summary = "The 50-layer bottleneck residual network, 24 M parameters, 2048 features; the ImageNet reference backbone."
    citation = "He et al., 2016"
