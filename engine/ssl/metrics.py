"""Monitors shared by all joint-embedding methods (DESIGN.md, "Metrics every run logs")."""
from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def contrastive_accuracy(z1: torch.Tensor, z2: torch.Tensor) -> float:
    """Fraction of view-1 anchors whose most similar view-2 embedding is their own pair.

    z1, z2: (N, D). Cosine similarity; chance is 1/N (Chen et al., 2020 log the same)."""
    sim = F.normalize(z1.float(), dim=1) @ F.normalize(z2.float(), dim=1).T
    target = torch.arange(z1.shape[0], device=z1.device)
    return (sim.argmax(1) == target).float().mean().item()
