"""Monitors shared by the joint-embedding methods (DESIGN.md, "Metrics every run logs").

All are computed under ``no_grad`` outside the pure loss functions, returned as 0-dim tensors
on the device (the trainer brings metrics to the host in batches), and global under torchrun:
candidates and anchors come from every rank's images, so the figure does not depend on the
number of processes.

- ``contrastive_accuracy``: SimCLR's contrastive task accuracy (Chen et al., 2020): each of
  the 2N embeddings ranks its positive (the other view of its image) first among the 2N - 1
  candidates of NT-Xent's logits. Chance ``1 / (2N - 1)``.
- ``pair_retrieval_accuracy``: the same ranking where anchors and candidates differ (BYOL's
  and SimSiam's predictions against their targets, DINO's and SwAV's student against teacher
  or codes); logged as ``retrieval_acc`` by methods without negatives, whose loss has no
  candidates to rank.
- ``ranked_first``: the positive ranked first in a method's own logits (MoCo's 1 + K).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.training.distributed import concat_all_gather


@torch.no_grad()
def ranked_first(logits: torch.Tensor, target: torch.Tensor | int) -> torch.Tensor:
    """logits: (M, C) each anchor's scores of its candidates (-inf where not a candidate);
    target: (M,) or an int, the positive's column -> 0-dim tensor, the fraction of anchors
    (of all ranks) whose positive has the highest score."""
    if isinstance(target, int):
        target = torch.full((logits.shape[0],), target, dtype=torch.long, device=logits.device)
    hits = (logits.argmax(1) == target).float()
    return concat_all_gather(hits).mean()


@torch.no_grad()
def pair_retrieval_accuracy(a1: torch.Tensor, a2: torch.Tensor, c1: torch.Tensor | None = None,
                            c2: torch.Tensor | None = None, cosine: bool = True) -> torch.Tensor:
    """Anchors a1, a2: (N, D) of views 1 and 2; candidates c1, c2: (N, D) (the anchors when
    None). This rank's N images; the ranking is over the global batch under torchrun.

    Anchor i of view v scores the 2N candidates of both views (cosine similarity, or the dot
    product with ``cosine=False``, e.g. log-probabilities against target distributions), its
    own candidate (same image, same view) left out: 2N - 1 candidates, one positive (same
    image, other view). Returns a 0-dim tensor, the fraction of the 2N anchors that rank their
    positive first; chance 1 / (2N - 1)."""
    c1 = a1 if c1 is None else c1
    c2 = a2 if c2 is None else c2
    a = torch.cat([concat_all_gather(a1.detach()), concat_all_gather(a2.detach())]).float()
    c = torch.cat([concat_all_gather(c1.detach()), concat_all_gather(c2.detach())]).float()
    if cosine:
        a, c = F.normalize(a, dim=1), F.normalize(c, dim=1)
    scores = a @ c.T
    scores.fill_diagonal_(float("-inf"))  # an anchor's own candidate is not one
    n = a.shape[0] // 2
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)]).to(a.device)
    return (scores.argmax(1) == target).float().mean()


@torch.no_grad()
def contrastive_accuracy(z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
    """SimCLR's contrastive accuracy. z1, z2: (N, D) this rank's projections of two views ->
    0-dim tensor, the fraction of the (global) 2N embeddings whose most similar other
    embedding is the other view of their image; chance 1 / (2N - 1)."""
    return pair_retrieval_accuracy(z1, z2)


def pair_chance(batch_size: int) -> float:
    """Chance level of ``contrastive_accuracy`` / ``pair_retrieval_accuracy`` for a global
    batch of ``batch_size`` images: 1 / (2N - 1)."""
    return 1.0 / max(2 * batch_size - 1, 1)
