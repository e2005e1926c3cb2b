"""Weighted cosine kNN classification on frozen features (Wu et al., 2018), as used for
online monitoring by solo-learn and for evaluation by DINO (Caron et al., 2021)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


@torch.no_grad()
def knn_predict(train_f: torch.Tensor, train_y: torch.Tensor, test_f: torch.Tensor, k: int = 20,
                temperature: float = 0.07, num_classes: int | None = None, chunk: int = 1024) -> torch.Tensor:
    """train_f: (M, D), train_y: (M,), test_f: (N, D) -> (N, C) class scores.

    Each of the k nearest neighbours (cosine) votes for its class with weight exp(sim / T)."""
    num_classes = num_classes or int(train_y.max()) + 1
    k = min(k, train_f.shape[0])
    train_f = F.normalize(train_f.float(), dim=1)
    scores = []
    for start in range(0, test_f.shape[0], chunk):
        q = F.normalize(test_f[start:start + chunk].float(), dim=1)
        sim, idx = (q @ train_f.T).topk(k, dim=1)
        votes = torch.zeros(q.shape[0], num_classes, device=q.device)
        votes.scatter_add_(1, train_y[idx], (sim / temperature).exp())
        scores.append(votes)
    return torch.cat(scores)


def knn_accuracy(train_f, train_y, test_f, test_y, k=20, temperature=0.07, num_classes=None) -> float:
    pred = knn_predict(train_f, train_y, test_f, k, temperature, num_classes).argmax(1)
    return (pred == test_y.to(pred.device)).float().mean().item()


@torch.no_grad()
def extract_features(embed, images: torch.Tensor, batch_size: int = 512, device="cpu") -> torch.Tensor:
    """images: (N, 3, H, W) uint8 (any device) -> (N, F) features from ``embed`` on ``device``."""
    out = []
    for start in range(0, images.shape[0], batch_size):
        out.append(embed(images[start:start + batch_size].to(device, non_blocking=True)).float())
    return torch.cat(out)
