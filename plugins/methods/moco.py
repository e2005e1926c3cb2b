"""MoCo v2: momentum contrast with a queue of negatives (He et al., 2020; Chen, Fan,
Girshick & He, 2020 for v2's MLP head and stronger augmentation)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    FeatureQueue,
    MomentumPair,
    Param,
    TwoViewMethod,
    concat_all_gather,
    image_ids,
    mlp_head,
    momentum_params,
    ranked_first,
    register_method,
    shuffled_forward,
    view_params,
)

_NUM_IDS = 2**61 - 1  # image ids as fine as the hash gives: collisions are negligible


def moco_logits(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float = 0.2,
                exclude: torch.Tensor | None = None) -> torch.Tensor:
    """q, k: (N, D); queue: (K, D); exclude: (N, K) bool or None (see ``moco_loss``) ->
    (N, 1 + K) logits ``[q.k, q.queue] / temperature``, the positive in column 0."""
    q = F.normalize(q.float(), dim=1)
    k = F.normalize(k.float(), dim=1).detach()
    pos = (q * k).sum(1, keepdim=True)
    neg = q @ queue.float().T
    if exclude is not None:
        neg = neg.masked_fill(exclude, float("-inf"))
    return torch.cat([pos, neg], dim=1) / temperature


def moco_loss(q: torch.Tensor, k: torch.Tensor, queue: torch.Tensor, temperature: float = 0.2,
              exclude: torch.Tensor | None = None):
    """InfoNCE of queries against their keys, with the queue as negatives.

    q: (N, D) online projections (queries); k: (N, D) momentum-encoder projections of the
    other view (keys, no gradient); queue: (K, D) earlier keys, unit length; exclude: (N, K)
    bool or None, queued keys that are not negatives of a query (keys of its own image,
    which a queue longer than an epoch still holds). Each query's logits are ``[q.k,
    q.queue] / temperature`` (1 + K candidates, excluded ones at -inf), the positive first.
    Returns ``(loss, metrics)``, metrics empty (the method logs ``contrastive_acc``, the
    positive ranked first in these logits)."""
    logits = moco_logits(q, k, queue, temperature, exclude)
    target = torch.zeros(q.shape[0], dtype=torch.long, device=q.device)
    return F.cross_entropy(logits, target), {}


@register_method
class MoCo(TwoViewMethod):
    id = "moco"
    title = "MoCo v2"
    summary = ("Momentum contrast: queries from the online encoder are matched to keys from a slowly "
               "moving (EMA) copy of it, against a large queue of earlier keys as negatives, so the "
               "number of negatives does not depend on the batch size. v2 adds an MLP projector and "
               "SimCLR's augmentations. The loss is symmetrised over the two views.")
    citation = "He et al., 2020 (CVPR); Chen, Fan, Girshick & He, 2020 (MoCo v2)"
    params = [
        Param("temperature", "float", 0.2, "softmax temperature tau of InfoNCE", 0.01, 10.0, log=True),
        Param("queue_size", "int", 4096, "number K of queued negative keys (65536 on ImageNet)", 16, 1_000_000, log=True),
        Param("exclude_own_keys", "bool", True,
              "leave a query's own image out of its queued negatives (matters once the queue is longer than an epoch)"),
        Param("proj_hidden", "int", 512, "hidden width of the projection head", 16, 8192),
        Param("proj_dim", "int", 128, "output dimension of the projection head", 8, 4096),
        Param("shuffle_bn", "bool", True,
              "under torchrun, the key encoder's BatchNorm sees a batch shuffled across processes (MoCo's "
              "shuffling BN; skipped with sync_bn, whose statistics are global already)"),
        *momentum_params(0.999, "constant"),  # MoCo v2: m = 0.999, constant
        *view_params(),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        # MoCo v2's head: Linear-ReLU-Linear, no BatchNorm (Chen, Fan, Girshick & He, 2020)
        self.projector = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"], bn=False)
        self.momentum = MomentumPair({"backbone": backbone, "projector": self.projector},
                                     p["base_momentum"], p["momentum_schedule"])
        self.queue = FeatureQueue(p["queue_size"], p["proj_dim"])

    def training_step(self, x, y=None):
        v = self.both_views(x)
        q1, q2 = self.projector(self.backbone.forward_features(v)).chunk(2)
        with torch.no_grad():
            key = lambda inp: self.momentum["projector"](self.momentum["backbone"].forward_features(inp))  # noqa: E731
            keys = shuffled_forward(key, v, self.momentum.target) if self.hparams["shuffle_bn"] else key(v)
            k1, k2 = keys.chunk(2)
        queue, t = self.queue.items.clone(), self.hparams["temperature"]
        ids = image_ids(x, _NUM_IDS)
        exclude = ids[:, None] == self.queue.tags[None, :] if self.hparams["exclude_own_keys"] else None
        loss_a, _ = moco_loss(q1, k2, queue, t, exclude)
        loss_b, _ = moco_loss(q2, k1, queue, t, exclude)
        with torch.no_grad():  # the key first among the loss's 1 + K candidates, both directions
            acc = (ranked_first(moco_logits(q1, k2, queue, t, exclude), 0)
                   + ranked_first(moco_logits(q2, k1, queue, t, exclude), 0)) / 2
        # Under torchrun the queue takes every rank's keys (MoCo's concat_all_gather), so all
        # ranks hold the same queue: the one a single process with the global batch would hold.
        k1, k2, ids = concat_all_gather(k1), concat_all_gather(k2), concat_all_gather(ids)
        self.queue.push(F.normalize(torch.cat([k1, k2]).float(), dim=1), torch.cat([ids, ids]))
        return {"loss": (loss_a + loss_b) / 2, "contrastive_acc": acc, "momentum": self.momentum.momentum}

    @classmethod
    def accuracy_chance(cls, params, batch_size):
        return 1.0 / (params["queue_size"] + 1)  # the key among 1 + K candidates

    def on_step_end(self, progress):
        self.momentum.update(progress)

    @torch.no_grad()
    def input_preview(self, x):
        return {"original": x.float() / 255,
                "query view": self.recipe(x, self.gen, norm=False), "key view": self.recipe(x, self.gen, norm=False)}
