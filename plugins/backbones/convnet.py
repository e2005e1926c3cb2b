"""A small VGG-style CNN, fast enough to pre-train on a laptop CPU."""
from __future__ import annotations

from torch import nn

from engine.api import BackboneBase, Param, register_backbone, vgg_block


@register_backbone
class ConvNet(BackboneBase):
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
        self.stem = vgg_block(3, w)
        self.layers = nn.ModuleList([vgg_block(w, w * 2, pool=True), vgg_block(w * 2, w * 4, pool=True),
                                     vgg_block(w * 4, w * 8, pool=True)])
        self.num_features = w * 8
