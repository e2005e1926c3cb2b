"""The base of the patch-arrangement pretext tasks: patches cut from a 3 x 3 grid of cells
(with gaps, so that edges do not give the answer away) are each encoded by the shared
backbone, and an MLP on their concatenated features names the arrangement — where the second
patch lies (context prediction, Doersch, Gupta & Efros, 2015) or which permutation shuffled
the nine (jigsaw puzzles, Noroozi & Favaro, 2016).

A subclass sets ``patches_per_task`` (K) and ``accuracy_key``, says how many arrangements
there are (``arrangements``) and builds a batch of tasks (``tasks``); training, the head and
the preview mosaic live here. Subclasses' params need ``tile_px`` and ``hidden``.
"""
from __future__ import annotations

import torch

from engine.ssl.augment import to_float
from engine.ssl.classification import classification_loss
from engine.ssl.heads import mlp_head
from engine.ssl.method import MethodPlugin
from engine.ssl.patches import crop_patches, grid_origins, mosaic, to_unit_range, upsample_to

GRID = 3


class PatchTaskMethod(MethodPlugin):
    patches_per_task = GRID * GRID  # K, the patches whose features the head reads

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.cell = image_size // GRID
        self.head = mlp_head(self.patches_per_task * backbone.num_features, p["hidden"], self.arrangements(p))

    @classmethod
    def arrangements(cls, params) -> int:
        """The number of classes the head tells apart."""
        raise NotImplementedError

    def tasks(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x: uint8 (N, 3, H, W) -> (patches (N, K, 3, t, t) as the network sees them, labels (N,))."""
        raise NotImplementedError

    def cut(self, x: torch.Tensor, tile: int, cells: torch.Tensor | None = None,
            max_jitter: int | None = None) -> torch.Tensor:
        """x: uint8 (N, 3, H, W) -> float (N, K, 3, tile, tile): the grid's patches (all nine in
        row-major order, or the (N, K) ``cells`` of each image), jittered as ``grid_origins``
        says (anywhere in the cell, or by at most ``max_jitter`` px from its centre)."""
        tops, lefts = grid_origins(x.shape[0], GRID, self.image_size, tile, self.gen, max_jitter=max_jitter)
        if cells is not None:
            tops, lefts = tops.gather(1, cells), lefts.gather(1, cells)
        return crop_patches(to_float(x), tops, lefts, tile)

    def training_step(self, x, y=None):
        patches, labels = self.tasks(x)
        n = patches.shape[0]
        feats = self.backbone.forward_features(upsample_to(patches.flatten(0, 1), self.hparams["tile_px"]))
        loss, metrics = classification_loss(self.head(feats.reshape(n, -1)), labels, self.accuracy_key)
        return {"loss": loss, **metrics}

    def grid_mosaic(self, patches: torch.Tensor, cells: torch.Tensor | None = None) -> torch.Tensor:
        """patches: (N, K, C, t, t) -> (N, C, S, S) preview, each patch min-maxed to [0, 1] and
        drawn at its (N, K) grid ``cells`` (None: K = 9 in grid order), the other cells blank."""
        shown = to_unit_range(patches)
        if cells is None:
            return mosaic(shown, GRID)
        n, _, c, t, _ = shown.shape
        grid = torch.zeros(n, GRID * GRID, c, t, t, device=shown.device)
        grid[torch.arange(n, device=shown.device)[:, None], cells.to(shown.device)] = shown
        return mosaic(grid, GRID)
