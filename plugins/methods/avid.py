"""Audio-Visual Instance Discrimination (AVID, Morgado, Vasconcelos & Misra, 2021):
cross-modal contrastive learning, each clip's video embedding must pick its own sound among
the batch's, and each sound its own video (InfoNCE both ways)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    AV_PARAMS,
    AudioVisualMethod,
    Param,
    mlp_head,
    normalize,
    random_gain,
    register_method,
    to_float,
)


def cross_modal_nce(v: torch.Tensor, a: torch.Tensor, temperature: float):
    """v, a: (N, D) L2-normalised video and audio embeddings of the same N clips -> (loss,
    {"xmodal_acc"}): the mean of the video->audio and audio->video InfoNCE losses, the
    positives on the diagonal (AVID's cross-modal discrimination with in-batch negatives);
    xmodal_acc is the share of clips whose own partner ranks first, both ways averaged."""
    logits = v @ a.t() / temperature                               # (N, N)
    target = torch.arange(len(v), device=v.device)
    loss = (F.cross_entropy(logits.float(), target) + F.cross_entropy(logits.t().float(), target)) / 2
    acc = ((logits.argmax(1) == target).float().mean() + (logits.argmax(0) == target).float().mean()) / 2
    return loss, {"xmodal_acc": acc}


@register_method
class AVID(AudioVisualMethod):
    id = "avid"
    title = "AVID (cross-modal instance discrimination)"
    summary = ("A clip backbone embeds each clip, the audio tower its sound; both are projected to a shared "
               "space where each clip's video must find its own sound among the batch's, and each sound its "
               "own video (InfoNCE in both directions). The paper adds a memory bank of negatives; here the "
               "batch gives them.")
    citation = "Morgado, Vasconcelos & Misra, 2021 (CVPR), Audio-Visual Instance Discrimination"
    accuracy_key = "xmodal_acc"
    shared_space = True  # shared_embeddings: cross-modal retrieval
    params = [
        Param("temperature", "float", 0.07, "softmax temperature of the InfoNCE logits (the paper: 0.07)",
              0.01, 1.0, log=True),
        Param("proj_dim", "int", 128, "width of the shared embedding (the paper: 128)", 8, 2048),
        Param("proj_hidden", "int", 512, "hidden width of the two projection heads", 8, 8192),
        *AV_PARAMS,
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.v_proj = mlp_head(backbone.num_features, p["proj_hidden"], p["proj_dim"])
        self.a_proj = mlp_head(self.audio.num_features, p["proj_hidden"], p["proj_dim"])

    def shared_embeddings(self, b):
        """-> ((N, proj_dim) video, (N, proj_dim) audio) embeddings, L2-normalised."""
        v = self.v_proj(self.backbone.forward_features(normalize(to_float(b.frames))))
        a = self.a_proj(self.audio_features(b.waveforms(), b.sample_rate))
        return F.normalize(v, dim=1), F.normalize(a, dim=1)

    def training_step(self, x, y=None):
        b = self.batch(x)
        v = self.v_proj(self.backbone.forward_features(normalize(to_float(b.frames))))
        a = self.a_proj(self.audio_features(random_gain(b.waveforms(), self.gen), b.sample_rate))
        loss, metrics = cross_modal_nce(F.normalize(v, dim=1), F.normalize(a, dim=1), self.hparams["temperature"])
        return {"loss": loss, **metrics}
