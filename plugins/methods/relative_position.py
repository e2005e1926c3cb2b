"""Context prediction: unsupervised visual representation learning by context prediction
(Doersch, Gupta & Efros, 2015)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    Param,
    PatchTaskMethod,
    register_method,
    standardize,
    to_float,
)

CENTRE = 4
NEIGHBOURS = (0, 1, 2, 3, 5, 6, 7, 8)  # grid positions of the 8 classes, row-major


def drop_colors(patches: torch.Tensor, noise_ratio: float, gen: torch.Generator | None) -> torch.Tensor:
    """Keep one random channel of each patch and replace the other two by Gaussian noise with
    ``noise_ratio`` times that channel's standard deviation (Doersch et al., 2015, section 3.1:
    defeats chromatic-aberration shortcuts). patches: (M, 3, h, w)."""
    m = patches.shape[0]
    keep = torch.randint(3, (m,), generator=gen).to(patches.device)
    kept = patches[torch.arange(m, device=patches.device), keep][:, None]     # (M, 1, h, w)
    std = kept.std(dim=(2, 3), keepdim=True)
    noise = torch.randn(patches.shape, generator=gen).to(patches.device, patches.dtype) * std * noise_ratio
    mask = F.one_hot(keep, 3).to(patches.dtype)[:, :, None, None]
    return mask * kept + (1 - mask) * (kept.mean(dim=(2, 3), keepdim=True) + noise)


@register_method
class RelativePosition(PatchTaskMethod):
    id = "relative_position"
    title = "Relative position (context prediction)"
    summary = ("A patch from the centre of a 3x3 grid and one of its eight neighbours, separated by a "
               "gap and jittered, go through the shared backbone; an MLP on the two features says where "
               "the second patch lies. Colour dropping stops the network from solving it with "
               "chromatic aberration instead of object parts.")
    citation = "Doersch, Gupta & Efros, 2015 (ICCV)"
    accuracy_key = "relpos_acc"
    chance = 1 / 8
    patches_per_task = 2  # the centre patch and one neighbour
    params = [
        Param("tile_frac", "float", 0.6667, "patch side as a fraction of its grid cell (96/(96+48) px in the paper); the rest is the gap", 0.3, 0.95),
        Param("jitter_frac", "float", 0.0486, "largest jitter of a patch, as a fraction of its cell (7/144 px in the paper); "
              "capped so that patches never touch", 0.0, 0.5),
        Param("tile_px", "int", 16, "patches are resized to this side for the backbone (backbones need >= 16 px)", 16, 224, unit="px"),
        Param("color_drop", "bool", True, "keep one random channel per patch and replace the others by noise"),
        Param("noise_ratio", "float", 0.01, "std of the replacement noise relative to the kept channel (1/100 in the paper)", 0.0, 1.0),
        Param("hidden", "int", 512, "hidden width of the MLP over the concatenated pair", 16, 8192),
    ]

    @classmethod
    def arrangements(cls, params):
        return len(NEIGHBOURS)

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        cell = self.cell
        self.tile = max(2, int(p["tile_frac"] * cell))
        if self.tile >= cell:
            self.tile = cell - 1  # at least a 1-px gap: the gap is what closes the edge shortcut
        # jitter as in the paper, but never so much that two patches touch (2 j < gap)
        self.jitter = min(round(p["jitter_frac"] * cell), (cell - self.tile - 1) // 2)

    def cells(self, labels: torch.Tensor) -> torch.Tensor:
        """labels: (N,) neighbour classes -> (N, 2) grid cells of the centre and the neighbour."""
        return torch.stack([torch.full_like(labels, CENTRE), torch.tensor(NEIGHBOURS)[labels]], 1)

    def tasks(self, x):
        """x: uint8 (N, 3, H, W) -> (centre and neighbour patches (N, 2, 3, t, t), labels (N,))."""
        labels = torch.randint(len(NEIGHBOURS), (x.shape[0],), generator=self.gen)
        patches = self.cut(x, self.tile, self.cells(labels), max_jitter=self.jitter)
        if self.hparams["color_drop"]:
            patches = drop_colors(patches.flatten(0, 1), self.hparams["noise_ratio"], self.gen).view_as(patches)
        # over all channels: per-channel scaling would blow the dropped channels' faint noise up
        return standardize(patches, per_channel=False), labels.to(x.device)

    @torch.no_grad()
    def input_preview(self, x):
        """The pair laid out where it came from in the 3x3 grid (other cells blank)."""
        patches, labels = self.tasks(x)
        return {"original": to_float(x), "patch pair": self.grid_mosaic(patches, self.cells(labels.cpu()))}
