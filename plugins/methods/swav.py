"""SwAV: swapping assignments between views (Caron et al., 2020). Codes (soft cluster
assignments to learned prototypes) are computed for one view with Sinkhorn-Knopp, which
forces an equipartition over the prototypes, and predicted from every other view."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    FeatureQueue,
    MethodPlugin,
    Param,
    concat_all_gather,
    mlp_head,
    multicrop_from,
    multicrop_params,
    pair_chance,
    pair_retrieval_accuracy,
    rank_rows,
    register_method,
    swapped_cross_entropy,
    view_params,
)


@torch.no_grad()
def sinkhorn_knopp(scores: torch.Tensor, epsilon: float = 0.05, iterations: int = 3) -> torch.Tensor:
    """Balanced soft assignments of B samples to K prototypes.

    scores: (B, K) prototype similarities. Q = exp(scores / epsilon) is alternately
    rescaled so each prototype gets a total mass of B/K and each sample a mass of 1
    (Cuturi, 2013; Caron et al., 2020, Alg. 1). Returns (B, K); rows sum to 1 exactly,
    columns to about B/K (exactly in the limit of many iterations)."""
    q = scores.float() / epsilon
    q = torch.exp(q - q.max())  # the shift cancels in the normalisations; it avoids overflow
    q = q / q.sum()
    b, k = q.shape
    for _ in range(iterations):
        q = q / q.sum(dim=0, keepdim=True) / k  # each prototype: total mass 1/K
        q = q / q.sum(dim=1, keepdim=True) / b  # each sample: total mass 1/B
    return q * b


def swav_loss(scores: torch.Tensor, codes: torch.Tensor, temperature: float = 0.1):
    """Swapped prediction: each global view's codes are predicted from every other view.

    scores: (V, N, K) prototype scores of V views (the 2 global views first); codes:
    (2, N, K) Sinkhorn codes of the 2 global views (targets, no gradient). The loss is the
    cross-entropy between codes[i] and softmax(scores[v] / temperature), averaged over
    i in {0, 1} and v != i. Returns ``(loss, metrics)`` with ``metrics["code_agreement"]``:
    the fraction of images whose two global views pick the same prototype."""
    agree = (codes[0].argmax(1) == codes[1].argmax(1)).float().mean().detach()
    return swapped_cross_entropy(codes, F.log_softmax(scores.float() / temperature, dim=2)), {"code_agreement": agree}


@register_method
class SwAV(MethodPlugin):
    id = "swav"
    title = "SwAV"
    summary = ("Online clustering: every view's embedding is scored against learned prototypes; the "
               "codes of each global view, made balanced across prototypes by a few Sinkhorn-Knopp "
               "iterations, are the targets predicted from the other views (two global crops plus small "
               "multi-crops). Prototypes stay fixed for the first iterations; a queue of earlier "
               "embeddings makes small batches large enough for the balanced assignment.")
    citation = "Caron et al., 2020 (NeurIPS)"
    # no negatives: a global view's prediction retrieves the other view's codes (lowest
    # swapped-prediction cross-entropy) among the batch's 2N - 1
    accuracy_key = "retrieval_acc"
    params = [
        Param("num_prototypes", "int", 100, "number K of prototypes (3000 on ImageNet)", 2, 100000, log=True),
        Param("temperature", "float", 0.1, "softmax temperature of the swapped prediction", 0.01, 10.0, log=True),
        Param("epsilon", "float", 0.05, "entropic regularisation of Sinkhorn-Knopp", 0.001, 1.0, log=True),
        Param("sinkhorn_iterations", "int", 3, "Sinkhorn-Knopp iterations", 1, 100),
        Param("freeze_prototypes_steps", "int", 100, "optimizer steps during which prototypes are not updated", 0, 10**7),
        Param("queue_size", "int", 0, "embeddings kept from earlier batches for the assignment (0: off; "
              "SwAV uses 3840 when batches are below 256)", 0, 1_000_000),
        Param("proj_hidden", "int", 512, "hidden width of the projection head (2048 in the paper)", 16, 8192),
        Param("proj_dim", "int", 128, "output dimension of the projection head", 8, 4096),
        *multicrop_params(num_local=4, local_crop_min=0.05, local_crop_max=0.14),
        *view_params(crop_min=0.14),  # the paper's global crops (0.14, 1)
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.crops = multicrop_from(p, image_size, backbone.size_multiple)
        self.projector = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"])
        self.prototypes = nn.Linear(p["proj_dim"], p["num_prototypes"], bias=False)
        self.normalize_prototypes()
        self.queues = nn.ModuleList([FeatureQueue(p["queue_size"], p["proj_dim"], random_init=False)
                                     for _ in range(2)]) if p["queue_size"] else None
        self.register_buffer("steps_done", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def normalize_prototypes(self):
        self.prototypes.weight.copy_(F.normalize(self.prototypes.weight, dim=1))

    def _codes(self, scores: torch.Tensor, i: int, emb: torch.Tensor) -> torch.Tensor:
        """Sinkhorn codes of global view i, (N, K); queued embeddings join the assignment
        (once the queue is full, as in SwAV) but only the batch's codes are returned.

        Under torchrun the equipartition is over the global batch (SwAV all-reduces the
        Sinkhorn sums) and the queue takes every rank's embeddings, so each rank's codes and
        queue are those of one process with the global batch."""
        h = self.hparams
        batch = concat_all_gather(scores.detach())
        s = batch
        if self.queues is not None and self.queues[i].full:
            s = torch.cat([s, self.queues[i].items @ self.prototypes.weight.detach().T])
        q = rank_rows(sinkhorn_knopp(s, h["epsilon"], h["sinkhorn_iterations"])[: batch.shape[0]])
        if self.queues is not None:
            self.queues[i].push(concat_all_gather(emb.detach()))
        return q

    def training_step(self, x, y=None):
        self.normalize_prototypes()  # as in SwAV: unit prototypes before every step
        views = self.crops(x, self.gen)
        n = x.shape[0]
        glob = F.normalize(self.projector(self.backbone.forward_features(torch.cat(views[:2]))), dim=1)
        embs = [glob]
        if len(views) > 2:
            local = self.projector(self.backbone.forward_features(torch.cat(views[2:])))
            embs.append(F.normalize(local, dim=1))
        emb = torch.cat(embs)
        w = self.prototypes.weight
        if int(self.steps_done) < self.hparams["freeze_prototypes_steps"]:
            w = w.detach()  # no gradient: the optimizer leaves the prototypes as they are
        scores = (emb @ w.T).view(len(views), n, -1)
        codes = torch.stack([self._codes(scores[i], i, emb[i * n:(i + 1) * n]) for i in range(2)])
        loss, metrics = swav_loss(scores, codes, self.hparams["temperature"])
        with torch.no_grad():
            log_p = F.log_softmax(scores[:2].float() / self.hparams["temperature"], dim=2)
            retrieval = pair_retrieval_accuracy(log_p[0], log_p[1], codes[0], codes[1], cosine=False)
        return {"loss": loss, **metrics, "retrieval_acc": retrieval}

    @classmethod
    def accuracy_chance(cls, params, batch_size):
        return pair_chance(batch_size)

    def on_step_end(self, progress):
        self.steps_done += 1

    @torch.no_grad()
    def input_preview(self, x):
        views = self.crops(x, self.gen, norm=False)
        out = {"original": x.float() / 255, "global 1": views[0], "global 2": views[1]}
        out.update({f"local {i + 1}": v for i, v in enumerate(views[2:])})
        return out
