"""Multi-crop (Caron et al., 2020, SwAV; reused by DINO, Caron et al., 2021): two global
views at full resolution plus V small local crops of a small area, all from the
``engine.ssl.augment`` recipes. Small crops are cheap, so many more views per image cost
little compute."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from engine.ssl.augment import ViewRecipe, recipe_from


@dataclass
class MultiCrop:
    global_view: ViewRecipe
    local_view: ViewRecipe
    num_local: int

    def __call__(self, x: torch.Tensor, gen: torch.Generator | None = None, norm: bool = True):
        """x: (N, 3, H, W) uint8 -> list of 2 global views (N, 3, S, S) then ``num_local``
        local views (N, 3, s, s), float."""
        views = [self.global_view(x, gen, norm=norm) for _ in range(2)]
        views += [self.local_view(x, gen, norm=norm) for _ in range(self.num_local)]
        return views


def multicrop_params(num_local: int = 4, local_crop_min: float = 0.05, local_crop_max: float = 0.14,
                     local_size_frac: float = 0.5):
    """Schema entries for the local crops (the global crops use ``view_params()``)."""
    from engine.params import Param

    return [
        Param("num_local_crops", "int", num_local, "number V of small crops per image (0: two global views only)", 0, 16),
        Param("local_size_frac", "float", local_size_frac,
              "side of the small crops as a fraction of the image side (96/224 in SwAV and DINO)", 0.1, 1.0),
        Param("local_crop_min", "float", local_crop_min, "smallest local crop, as a fraction of the image area", 0.01, 1.0),
        Param("local_crop_max", "float", local_crop_max, "largest local crop, as a fraction of the image area", 0.01, 1.0),
    ]


MIN_LOCAL_SIDE = 8  # the backbones downsample 8x (three poolings or strides): less pools to nothing


def local_size(image_size: int, frac: float, multiple: int = 4) -> int:
    """Side of the local crops, rounded to a multiple of ``multiple`` (ViT patch sizes), at
    least ``MIN_LOCAL_SIDE`` (rounded up to the multiple) and at most the image side."""
    smallest = -(-MIN_LOCAL_SIDE // multiple) * multiple
    return min(max(smallest, int(round(image_size * frac / multiple)) * multiple), max(image_size, smallest))


def multicrop_from(params: dict, image_size: int, multiple: int = 4) -> MultiCrop:
    """``multiple``: the local side is rounded to it (a ViT needs whole patches)."""
    lo, hi = params["local_crop_min"], params["local_crop_max"]
    if lo > hi:
        from engine.params import ParamError
        raise ParamError(f"local_crop_min ({lo:g}) must not exceed local_crop_max ({hi:g})")
    glob = recipe_from(params, image_size)
    local = recipe_from(params, local_size(image_size, params["local_size_frac"], multiple), crop_min=lo, crop_max=hi)
    return MultiCrop(glob, local, params["num_local_crops"])


def swapped_cross_entropy(targets: torch.Tensor, log_p: torch.Tensor) -> torch.Tensor:
    """The multi-crop loss of SwAV and DINO (Caron et al., 2020, eq. 1; 2021, eq. 3): each
    global view's target predicted from every other view.

    targets: (2, N, K) distributions of the 2 global views (no gradient); log_p: (V, N, K)
    log-probabilities of all V views, the 2 global ones first. -> 0-dim mean over i in {0, 1}
    and v != i of ``-sum_k targets[i] log_p[v]``, averaged over the N images."""
    total, pairs = 0.0, 0
    for i in range(2):
        for v in range(log_p.shape[0]):
            if v != i:
                total = total - (targets[i] * log_p[v]).sum(1).mean()
                pairs += 1
    return total / pairs
