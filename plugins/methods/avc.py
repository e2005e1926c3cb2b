"""Audio-visual correspondence: Look, Listen and Learn (L3-Net, Arandjelovic & Zisserman,
2017). A frame and a second of sound, from the same clip or from two different ones: do they
belong together?"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    AV_PARAMS,
    AudioVisualMethod,
    Param,
    classification_loss,
    frame_at,
    mlp_head,
    other_clip,
    random_gain,
    register_method,
    window_starts,
    windows,
)

EMBED_DIMS = 128  # AVE-Net's embedding width


def correspondence_pairs(n: int, frames: int, length: int, window: int, seconds: float, positive_p: float,
                         gen: torch.Generator):
    """Draws for n clips of ``frames`` frames and ``length`` samples: (frame index (n,), sound
    clip (n,), window start (n,), label (n,) 1 = corresponding). The frame is the one shown at
    the middle of the sound window of its own clip; a negative's sound is the same window of
    another clip (L3-Net's negatives: a frame and audio from different videos)."""
    start = window_starts(n, length, window, gen)
    middle = (start + window / 2) / length * seconds
    positive = torch.rand(n, generator=gen) < positive_p
    sound_of = torch.where(positive, torch.arange(n), other_clip(n, gen))
    return frame_at(middle, seconds, frames), sound_of, start, positive.long()


@register_method
class AudioVisualCorrespondence(AudioVisualMethod):
    id = "avc"
    title = "Audio-visual correspondence (L3-Net)"
    summary = ("A frame and a window of sound, from the same clip or from two different clips: a vision tower "
               "(the run's backbone on one frame), an audio tower (a spectrogram CNN) and a small fusion "
               "network on their concatenated features must say whether they correspond. Nothing is labelled; "
               "the sound of a thing is what ties its look across clips.")
    citation = "Arandjelovic & Zisserman, 2017 (ICCV), Look, Listen and Learn"
    # chance: the larger class's share (0.5 when balanced)
    accuracy_key = "avc_acc"
    params = [
        Param("window_s", "float", 1.0, "seconds of sound per pair (the paper: 1 s; capped at the clip's length)",
              0.1, 10.0),
        Param("positive_p", "float", 0.5, "share of corresponding pairs in a batch (independent pairs)", 0.05, 0.95),
        Param("pairing", "choice", "independent", "independent: one pair per clip, corresponding with probability "
              "positive_p (the paper); both: every frame with its own sound and with another clip's, which halves "
              "the variance of the frame tower's gradient", choices=("independent", "both")),
        Param("fusion", "choice", "concat", "concat: an MLP on the concatenated features (L3-Net, 2017); "
              "distance: fc layers on the Euclidean distance of the L2-normalised 128-D embeddings "
              "(AVE-Net, Arandjelovic & Zisserman, 2018), which learns faster", choices=("concat", "distance")),
        Param("fusion_hidden", "int", 128, "hidden width of the fusion network (the paper: fc 128, fc 2)", 8, 4096),
        *AV_PARAMS,
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        if p["fusion"] == "concat":
            self.head = mlp_head(backbone.frame_dims + self.audio.num_features, p["fusion_hidden"], 2)
        else:
            self.v_proj = mlp_head(backbone.frame_dims, p["fusion_hidden"], EMBED_DIMS)
            self.a_proj = mlp_head(self.audio.num_features, p["fusion_hidden"], EMBED_DIMS)
            self.head = nn.Linear(1, 2)  # AVE-Net: fc(1 -> 2) on the distance, then softmax
            with torch.no_grad():  # start at "corresponding below distance 1", in logit units of 5
                self.head.weight.copy_(torch.tensor([[5.0], [-5.0]]))
                self.head.bias.copy_(torch.tensor([-5.0, 5.0]))

    def pairs(self, b):
        """(frame features (P, Fv), sound features (P, Fa), labels (P,)) of one batch: P = N
        independent pairs, or 2N with ``pairing = both`` (each frame with its own sound, then
        with another clip's)."""
        n, t = b.frames.shape[:2]
        wave = b.waveforms()
        window = min(wave.shape[1], max(1, round(self.hparams["window_s"] * b.sample_rate)))
        both = self.hparams.get("pairing", "independent") == "both"
        idx, sound_of, start, labels = correspondence_pairs(n, t, wave.shape[1], window, b.seconds,
                                                            1.0 if both else self.hparams["positive_p"], self.gen)
        if both:
            sound_of, start = torch.cat([sound_of, other_clip(n, self.gen)]), torch.cat([start, start])
            labels = torch.cat([labels, torch.zeros_like(labels)])
        sound = random_gain(windows(wave[sound_of.to(wave.device)], start, window), self.gen)
        v = self.visual_frames(b.frames, idx)
        return (torch.cat([v, v]) if both else v), self.audio_features(sound, b.sample_rate), labels.to(wave.device)

    def logits(self, v: torch.Tensor, a: torch.Tensor) -> torch.Tensor:
        """(N, Fv), (N, Fa) -> (N, 2) correspondence logits of the chosen fusion."""
        if self.hparams["fusion"] == "concat":
            return self.head(torch.cat([v, a], dim=1))
        d = (F.normalize(self.v_proj(v), dim=1) - F.normalize(self.a_proj(a), dim=1)).norm(dim=1, keepdim=True)
        return self.head(d)

    @property
    def shared_space(self) -> bool:
        return self.hparams["fusion"] == "distance"

    def shared_embeddings(self, b):
        """-> ((N, 128) middle-frame, (N, 128) sound) AVE-Net embeddings, L2-normalised; only
        with distance fusion (concat fusion has no shared space)."""
        if not self.shared_space:
            raise ValueError("avc with concat fusion has no shared embedding space")
        v = self.v_proj(self.visual_frames(b.frames, torch.full((len(b),), b.frames.shape[1] // 2)))
        a = self.a_proj(self.audio_features(b.waveforms(), b.sample_rate))
        return F.normalize(v, dim=1), F.normalize(a, dim=1)

    def training_step(self, x, y=None):
        v, a, labels = self.pairs(self.batch(x))
        loss, metrics = classification_loss(self.logits(v, a), labels, "avc_acc")
        return {"loss": loss, **metrics}
