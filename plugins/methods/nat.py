"""Noise As Targets: unsupervised learning by predicting noise (Bojanowski & Joulin, 2017)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment

from engine.api import (
    InstanceIds,
    MethodPlugin,
    Param,
    normalize,
    recipe_from,
    register_method,
    sobel,
    to_float,
    view_params,
)


def sphere_targets(count: int, dim: int, seed: int = 0) -> torch.Tensor:
    """(count, dim) points drawn uniformly on the unit sphere (normalised Gaussians)."""
    gen = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(count, dim, generator=gen), dim=1)


@torch.no_grad()
def reassign(features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The batch step of NAT (section 3.3): permute the batch's own targets among its images
    to minimise the summed squared distance, with the Hungarian algorithm.

    features: (B, D) normalised; targets: (B, D) the targets the B images hold now ->
    (B,) permutation ``perm`` such that image i should now hold targets[perm[i]]."""
    cost = -(features.float() @ targets.float().T)   # ||f - c||^2 = 2 - 2 f.c on the sphere
    _, cols = linear_sum_assignment(cost.float().cpu().numpy())
    return torch.as_tensor(cols, device=features.device)


def nat_loss(features: torch.Tensor, targets: torch.Tensor):
    """features: (N, D) normalised, targets: (N, D) on the sphere -> (mean squared L2 distance,
    {"nat_cosine": mean cosine between each feature and its target})."""
    loss = ((features.float() - targets.float()) ** 2).sum(1).mean()
    return loss, {"nat_cosine": (features.float() * targets.float()).sum(1).mean().item()}


@register_method
class NoiseAsTargets(MethodPlugin):
    id = "nat"
    title = "Noise As Targets"
    summary = ("Each image is given a fixed random point on the unit sphere and the network maps the "
               "image onto it (squared L2 on normalised features). Which image holds which point is "
               "re-optimised within batches by the Hungarian algorithm, so similar images end up "
               "with nearby targets. Images are identified by a hash of their pixels.")
    citation = "Bojanowski & Joulin, 2017 (ICML)"
    accuracy_key = "nat_cosine"
    params = [
        Param("capacity", "int", 8000, "number of targets, one per image (the paper: one per training image; set it "
              "to the dataset size); images beyond the first ones share targets", 2, 1000000),
        Param("target_dim", "int", 128, "dimension of the targets and the projected features", 2, 4096),
        Param("reassign_every", "int", 3, "re-assign the batch's targets every K steps (a random batch each "
              "time, so every image about every K epochs: the paper re-assigns every 3 epochs)", 1, 100000),
        Param("target_seed", "int", 0, "seed of the random targets", 0, 2**31 - 1),
        Param("sobel", "bool", True, "feed the network Sobel edges of the grey image instead of colour "
              "(as in the paper, and in DeepCluster after it): otherwise colour alone tells images apart"),
        *view_params(),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.recipe = recipe_from(p, image_size)
        self.projector = torch.nn.Linear(backbone.num_features, p["target_dim"])
        self.register_buffer("targets", sphere_targets(p["capacity"], p["target_dim"], p["target_seed"]))
        self.register_buffer("assignment", torch.arange(p["capacity"]))   # image id -> target row
        self.register_buffer("steps", torch.zeros((), dtype=torch.long))
        self.ids = InstanceIds(p["capacity"])  # image -> its own row of the assignment

    def _reassign_batch(self, ids, feats):
        """Let the distinct ids of the batch swap their targets optimally."""
        uniq, first = _first_occurrences(ids)
        held = self.assignment[uniq]
        perm = reassign(feats[first].detach(), self.targets[held])
        self.assignment[uniq] = held[perm]

    def training_step(self, x, y=None):
        ids = self.ids(x)
        feats = F.normalize(self.projector(self.backbone.forward_features(self._input(self.recipe(x, self.gen)))).float(), dim=1)
        if int(self.steps) % self.hparams["reassign_every"] == 0:
            self._reassign_batch(ids, feats)
        self.steps += 1
        loss, metrics = nat_loss(feats, self.targets[self.assignment[ids]])
        return {"loss": loss, **metrics}

    def _input(self, views: torch.Tensor) -> torch.Tensor:
        """views: (N, 3, H, W) normalised -> what the network sees (Sobel edges or colour)."""
        return sobel(views) if self.hparams["sobel"] else views

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) uint8 -> (N, F): features of the input the network was trained on."""
        return self.backbone.forward_features(self._input(normalize(to_float(x))))

    @torch.no_grad()
    def input_preview(self, x):
        views = self.recipe(x, self.gen, norm=False)
        out = {"original": to_float(x), "augmented": views}
        if self.hparams["sobel"]:  # edges shown as |gx| in red, |gy| in green, scaled per image
            edges = sobel(normalize(views)).abs()
            out["network input (Sobel)"] = edges / edges.amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        return out


def _first_occurrences(ids: torch.Tensor):
    """ids: (N,) -> (distinct ids (U,), index of each one's first occurrence (U,))."""
    uniq, inverse = torch.unique(ids, return_inverse=True)
    pos = torch.arange(len(ids), device=ids.device)
    first = torch.full((len(uniq),), len(ids), device=ids.device, dtype=torch.long).scatter_reduce(
        0, inverse, pos, reduce="amin")
    return uniq, first
