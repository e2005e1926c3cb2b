"""DINO: self-distillation with no labels (Caron et al., 2021). A student matches the
output distribution of a momentum teacher across views; the teacher's outputs are centred
(against collapse to one dimension) and sharpened (against collapse to uniform)."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    MethodPlugin,
    MomentumPair,
    Param,
    concat_all_gather,
    mlp_head,
    momentum_params,
    multicrop_from,
    multicrop_params,
    pair_chance,
    pair_retrieval_accuracy,
    register_method,
    swapped_cross_entropy,
    view_params,
)


class DINOHead(nn.Module):
    """MLP to a bottleneck, l2-normalisation, then a weight-normalised linear layer to K
    outputs whose weight rows stay unit length (``norm_last_layer`` in DINO). The MLP is
    DINO's: 3 layers, GELU, no BatchNorm (``use_bn=False``), so the head works without batch
    statistics, as ViTs do."""

    def __init__(self, in_dim: int, hidden: int, bottleneck: int, out_dim: int):
        super().__init__()
        self.mlp = mlp_head(in_dim, hidden, bottleneck, layers=3, bn=False, act=nn.GELU)
        self.last = nn.Linear(bottleneck, out_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, in_dim) -> (N, out_dim) logits."""
        z = F.normalize(self.mlp(x), dim=1)
        return z @ F.normalize(self.last.weight, dim=1).T


def teacher_temperature(progress: float, start: float, end: float, warmup: float) -> float:
    """Linear warm-up of the teacher temperature from ``start`` to ``end`` over the first
    ``warmup`` fraction of training, then constant (Caron et al., 2021, Sec. 3.1)."""
    if warmup <= 0 or progress >= warmup:
        return end
    return start + (end - start) * progress / warmup


def dino_loss(student: torch.Tensor, teacher: torch.Tensor, center: torch.Tensor,
              student_temp: float = 0.1, teacher_temp: float = 0.04):
    """Cross-entropy between the centred, sharpened teacher and the student, across views.

    student: (V, N, K) logits of all V views (2 global views first); teacher: (2, N, K)
    logits of the 2 global views (no gradient); center: (K,) running mean of teacher
    logits. P_t = softmax((teacher - center) / teacher_temp), P_s = softmax(student /
    student_temp); the loss averages -sum P_t[i] log P_s[v] over i in {0, 1}, v != i.
    Returns ``(loss, metrics)`` with ``teacher_entropy`` (nats; log K is uniform) and
    ``kl_divergence``, the part of the loss the student can still remove (loss minus the
    teacher's entropy)."""
    t = F.softmax((teacher.float().detach() - center) / teacher_temp, dim=2)
    loss = swapped_cross_entropy(t, F.log_softmax(student.float() / student_temp, dim=2))
    entropy = -(t * torch.log(t.clamp_min(1e-12))).sum(2).mean().detach()
    return loss, {"teacher_entropy": entropy, "kl_divergence": loss.detach() - entropy}


@register_method
class DINO(MethodPlugin):
    id = "dino"
    title = "DINO"
    summary = ("Self-distillation: a student network (all crops) learns to output the same distribution "
               "over K dimensions as a momentum teacher (global crops only). Centring the teacher's "
               "outputs with a running mean and sharpening them with a low temperature, warmed up at the "
               "start, avoids collapse. Best known with ViT backbones, whose attention maps segment objects.")
    citation = "Caron et al., 2021 (ICCV)"
    # no negatives: a global view's student distribution retrieves the other view's teacher
    # target (lowest cross-entropy, the loss's own score) among the batch's 2N - 1
    accuracy_key = "retrieval_acc"
    params = [
        Param("out_dim", "int", 1024, "number K of output dimensions (65536 in the paper)", 2, 100000, log=True),
        Param("head_hidden", "int", 512, "hidden width of the head (2048 in the paper)", 16, 8192),
        Param("bottleneck", "int", 128, "bottleneck width before the last layer (256 in the paper)", 8, 4096),
        Param("student_temp", "float", 0.1, "student softmax temperature", 0.001, 10.0, log=True),
        Param("teacher_temp", "float", 0.07, "teacher temperature after warm-up", 0.001, 10.0, log=True),
        Param("warmup_teacher_temp", "float", 0.04, "teacher temperature at the start", 0.001, 10.0, log=True),
        Param("teacher_temp_warmup", "float", 0.1, "fraction of training over which the teacher temperature warms up", 0.0, 1.0),
        Param("center_momentum", "float", 0.9, "momentum of the running centre of teacher outputs", 0.0, 1.0),
        *momentum_params(0.996, "cosine"),
        *multicrop_params(num_local=4, local_crop_min=0.05, local_crop_max=0.4),
        *view_params(crop_min=0.4),  # the paper's global crops (0.4, 1)
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.crops = multicrop_from(p, image_size, backbone.size_multiple)
        self.head = DINOHead(backbone.num_features, p["head_hidden"], p["bottleneck"], p["out_dim"])
        self.teacher = MomentumPair({"backbone": backbone, "head": self.head},
                                    p["base_momentum"], p["momentum_schedule"])
        self.register_buffer("center", torch.zeros(p["out_dim"]))
        self.teacher_temp = p["warmup_teacher_temp"]

    def _student(self, views):
        out = [self.head(self.backbone.forward_features(torch.cat(views[:2])))]
        if len(views) > 2:  # small crops have another size: a second forward pass
            out.append(self.head(self.backbone.forward_features(torch.cat(views[2:]))))
        return torch.cat(out)

    def training_step(self, x, y=None):
        views = self.crops(x, self.gen)
        n = x.shape[0]
        student = self._student(views)
        with torch.no_grad():
            teacher = self.teacher["head"](self.teacher["backbone"].forward_features(torch.cat(views[:2])))
        h = self.hparams
        loss, metrics = dino_loss(student.view(len(views), n, -1), teacher.view(2, n, -1), self.center,
                                  h["student_temp"], self.teacher_temp)
        with torch.no_grad():  # before the centre moves: the targets this loss used
            log_s = F.log_softmax(student[:2 * n].float() / h["student_temp"], dim=1)
            t = F.softmax((teacher.float() - self.center) / self.teacher_temp, dim=1)
            retrieval = pair_retrieval_accuracy(*log_s.chunk(2), *t.chunk(2), cosine=False)
        with torch.no_grad():
            m = h["center_momentum"]
            # the mean over the global batch (DINO all-reduces it), the same on every rank
            self.center.mul_(m).add_(concat_all_gather(teacher.float()).mean(0), alpha=1 - m)
        return {"loss": loss, **metrics, "retrieval_acc": retrieval,
                "momentum": self.teacher.momentum, "teacher_temp": self.teacher_temp}

    @classmethod
    def accuracy_chance(cls, params, batch_size):
        return pair_chance(batch_size)

    def on_step_end(self, progress):
        self.teacher.update(progress)
        h = self.hparams
        self.teacher_temp = teacher_temperature(progress, h["warmup_teacher_temp"], h["teacher_temp"],
                                                h["teacher_temp_warmup"])

    @torch.no_grad()
    def input_preview(self, x):
        views = self.crops(x, self.gen, norm=False)
        out = {"original": x.float() / 255, "global 1": views[0], "global 2": views[1]}
        out.update({f"local {i + 1}": v for i, v in enumerate(views[2:])})
        return out
