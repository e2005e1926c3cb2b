"""What a backbone plugin is: an ``nn.Module`` that maps (N, 3, H, W) normalised images to
(N, num_features) features, with its intermediate maps and its capabilities declared.

The defaults serve backbones built as ``stem`` followed by ``layers`` (an ``nn.ModuleList``),
like the VGG-style ConvNet and the ResNets: ``stages`` returns the map after the stem and after
each layer, ``forward_features`` globally average-pools the last one. Token backbones (ViT)
override both and declare ``Capability.TOKENS`` (and ``MASKING`` for ``forward_visible``).
"""
from __future__ import annotations

import torch
from torch import nn

from engine.capabilities import Capability, SampleKind
from engine.plugin_card import PluginCard


class BackboneBase(PluginCard, nn.Module):
    input_kind = SampleKind.IMAGE
    capabilities: frozenset[Capability] = frozenset()
    # Side of a patch in pixels for token backbones (set per instance, it is a parameter);
    # None for CNNs, which take any input side.
    patch_size: int | None = None
    num_features: int = 0  # set by __init__: the width of forward_features' output

    stem: nn.Module
    layers: nn.ModuleList

    @property
    def size_multiple(self) -> int:
        """Sides that crops of the input are rounded to (multi-crop's local views): the patch
        size of a token backbone; 4 px for CNNs, which take any side."""
        return self.patch_size or 4

    @property
    def stage_names(self) -> list[str]:
        """One name per map of ``stages``: ``stem, stage1, ...``."""
        return ["stem"] + [f"stage{i}" for i in range(1, len(self.layers) + 1)]

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (N, 3, H, W) -> [stem map, map after each layer], each (N, C_i, H_i, W_i)."""
        out = [self.stem(x)]
        for layer in self.layers:
            out.append(layer(out[-1]))
        return out

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) -> (N, num_features): the last stage's map averaged over space.
        Keeps no intermediate maps (evaluation embeds large sets under no_grad)."""
        x = self.stem(x)
        for layer in self.layers:
            x = layer(x)
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The same as ``forward_features`` (a subclass overriding it changes both)."""
        return self.forward_features(x)
