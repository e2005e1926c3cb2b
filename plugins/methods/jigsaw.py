"""Jigsaw puzzles: unsupervised learning of visual representations by solving jigsaw
puzzles (Noroozi & Favaro, 2016)."""
from __future__ import annotations

import functools
import itertools

import torch

from engine.api import (
    Param,
    PatchTaskMethod,
    register_method,
    standardize,
    to_float,
)


@functools.lru_cache(maxsize=2)
def _all_permutations(tiles: int) -> torch.Tensor:
    """(tiles!, tiles) uint8: every ordering, in lexicographic order."""
    return torch.tensor(list(itertools.permutations(range(tiles))), dtype=torch.uint8)


SELECTIONS = ("summed", "min")


@functools.lru_cache(maxsize=8)
def hamming_permutations(count: int, seed: int = 0, tiles: int = 9,
                         selection: str = "summed") -> torch.Tensor:
    """A permutation set chosen greedily for large Hamming distances, from a random first
    permutation; ties broken at random; deterministic given ``seed``.

    ``selection="summed"``: Noroozi & Favaro (2016), Algorithm 1 ("maximal" set): the next
    permutation is the unchosen one whose Hamming distances to the chosen ones have the
    largest sum. ``"min"``: the one whose smallest distance to the chosen ones is largest
    (a max-min variant, which keeps every pair of puzzles far apart; not the paper's).
    Returns (count, tiles) int64; row p lists which original tile sits at each position of
    puzzle p."""
    if selection not in SELECTIONS:
        raise ValueError(f"unknown selection {selection!r} (known: {', '.join(SELECTIONS)})")
    every = _all_permutations(tiles)
    if not 1 <= count <= len(every):
        raise ValueError(f"between 1 and {len(every)} permutations of {tiles} tiles exist, not {count}")
    gen = torch.Generator().manual_seed(seed)
    chosen = [int(torch.randint(len(every), (1,), generator=gen))]
    score = (every != every[chosen[0]]).sum(1)  # summed or smallest distance to the chosen set
    taken = torch.zeros(len(every), dtype=torch.bool)
    taken[chosen[0]] = True
    for _ in range(count - 1):
        free = score.masked_fill(taken, -1)
        best = (free == free.max()).nonzero().squeeze(1)
        pick = int(best[torch.randint(len(best), (1,), generator=gen)])
        chosen.append(pick)
        taken[pick] = True
        d = (every != every[pick]).sum(1)
        score = score + d if selection == "summed" else torch.minimum(score, d)
    return every[chosen].long()


def min_hamming_distance(perms: torch.Tensor) -> int:
    """perms: (P, T) -> the smallest Hamming distance between two different rows."""
    d = (perms[:, None, :] != perms[None, :, :]).sum(2)
    d.fill_diagonal_(perms.shape[1] + 1)
    return int(d.min())


def shuffle_tiles(tiles: torch.Tensor, perms: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """tiles: (N, T, C, t, t) in grid order, perms: (P, T), labels: (N,) in [0, P) ->
    (N, T, C, t, t) where position i of image n holds tile perms[labels[n], i]."""
    order = perms.to(tiles.device)[labels]
    return tiles[torch.arange(tiles.shape[0], device=tiles.device)[:, None], order]


@register_method
class Jigsaw(PatchTaskMethod):
    id = "jigsaw"
    title = "Jigsaw puzzles"
    summary = ("Nine tiles cut from a 3x3 grid (with gaps and random jitter, each standardised on its "
               "own so that edges and colour statistics cannot give the answer away) are shuffled by "
               "one of P permutations chosen for maximal Hamming distance. The shared backbone encodes "
               "each tile and an MLP on the concatenated features names the permutation.")
    citation = "Noroozi & Favaro, 2016 (ECCV)"
    accuracy_key = "jigsaw_acc"

    @classmethod
    def accuracy_chance(cls, params, batch_size):
        return 1.0 / params["permutations"]

    @classmethod
    def arrangements(cls, params):
        return params["permutations"]
    params = [
        Param("permutations", "int", 100, "size P of the permutation set (1000 in the paper; 100 learns faster on small data)", 10, 1000),
        Param("perm_seed", "int", 0, "seed of the greedy maximal-Hamming permutation set", 0, 2**31 - 1),
        Param("perm_selection", "choice", "summed", "summed: the paper's Algorithm 1 (largest summed Hamming "
              "distance to the chosen set); min: largest smallest distance (max-min)", choices=SELECTIONS),
        Param("tile_frac", "float", 0.75, "tile side as a fraction of its grid cell (64/85 in the paper); the rest is gap and jitter", 0.3, 1.0),
        Param("tile_px", "int", 16, "tiles are resized to this side for the backbone (backbones need >= 16 px)", 16, 224, unit="px"),
        Param("hidden", "int", 512, "hidden width of the MLP over the concatenated tile features", 16, 8192),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.tile = max(2, int(p["tile_frac"] * self.cell))
        self.register_buffer("perms", hamming_permutations(p["permutations"], p["perm_seed"],
                                                           selection=p["perm_selection"]), persistent=False)

    def tasks(self, x):
        """x: uint8 (N, 3, H, W) -> (shuffled standardised tiles (N, 9, 3, t, t), labels (N,))."""
        tiles = standardize(self.cut(x, self.tile))
        labels = torch.randint(len(self.perms), (x.shape[0],), generator=self.gen).to(x.device)
        return shuffle_tiles(tiles, self.perms, labels), labels

    @torch.no_grad()
    def input_preview(self, x):
        tiles, _ = self.tasks(x)
        return {"original": to_float(x), "shuffled tiles": self.grid_mosaic(tiles)}

    @torch.no_grad()
    def embed(self, x):
        """Whole images, standardised per image like the tiles were: (N, 3, H, W) -> (N, F)."""
        return self.backbone.forward_features(standardize(to_float(x)))
