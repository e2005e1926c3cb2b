"""What a clip backbone is: a ``BackboneBase`` whose input is a batch of clips,
(N, T, 3, H, W) normalised frames, and which also gives one feature vector per frame.

- ``frame_features(x) -> (N, T, F_frame)``: per-frame features (a frame-wise image network's
  features of each frame, or a spatio-temporal network's map averaged over space only), so
  the image protocols (kNN, linear probe, retrieval on frames) can read a clip backbone;
- ``forward_features(x) -> (N, num_features)``: the clip's feature, by default the frame
  features averaged over time;
- ``stages(x)``: maps (N, C_i, T_i, H_i, W_i).

A clip of one frame (T = 1) is a valid input: methods that compare single frames (shuffle &
learn, slow features) encode them that way with any clip backbone.
"""
from __future__ import annotations

import torch

from engine.capabilities import SampleKind
from engine.models.backbone import BackboneBase


class ClipBackboneBase(BackboneBase):
    input_kind = SampleKind.CLIP
    frame_dims: int = 0  # set by __init__: the width of frame_features' output

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, 3, H, W) -> (N, T, frame_dims)."""
        raise NotImplementedError

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, 3, H, W) -> (N, num_features): frame features averaged over time."""
        return self.frame_features(x).mean(dim=1)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (N, T, 3, H, W) -> [map after the stem and after each layer], (N, C, T, H, W)."""
        out = [self.stem(x.transpose(1, 2))]
        for layer in self.layers:
            out.append(layer(out[-1]))
        return out
