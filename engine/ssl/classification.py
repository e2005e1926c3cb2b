"""The loss every classification pretext task shares: cross-entropy over the task's classes
and the share of samples whose highest logit is the right one.

Rotation (Gidaris et al., 2018), jigsaw (Noroozi & Favaro, 2016), context prediction (Doersch
et al., 2015), Exemplar-CNN (Dosovitskiy et al., 2014), order verification (Misra et al.,
2016), odd-one-out (Fernando et al., 2017), clip order (Xu et al., 2019) and the audio-visual
tasks (Arandjelovic & Zisserman, 2017; Owens & Efros, 2018; Owens et al., 2016) differ in
what the classes are, not in how they are scored.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, key: str,
                        label_smoothing: float = 0.0) -> tuple[torch.Tensor, dict]:
    """logits: (N, C), labels: (N,) int64 in 0..C-1 -> (cross-entropy in float32, {key: 0-dim
    tensor, the share of rows whose argmax is the label}); ``label_smoothing`` as in
    ``F.cross_entropy`` (Szegedy et al., 2016), the accuracy is unaffected by it."""
    loss = F.cross_entropy(logits.float(), labels, label_smoothing=label_smoothing)
    return loss, {key: (logits.argmax(1) == labels).float().mean()}
