"""Supervised reference for clips: a clip backbone trained with the clips' labels, the row
the video methods are compared to (Misra et al., 2016, Table 1; Xu et al., 2019, Table 3:
the same network trained on labels)."""
from __future__ import annotations

import torch

from engine.api import SampleKind, SupervisedMethod, augment_clips, register_method, tile_frames, to_float


@register_method
class SupervisedClip(SupervisedMethod):
    id = "supervised_clip"
    title = "Supervised clips (reference)"
    summary = ("Cross-entropy on the train split's clip labels, with one random crop and flip per clip (the "
               "same in all its frames). Not self-supervised: the upper reference for the video methods, "
               "with the same clip backbone and budget.")
    citation = "Misra et al., 2016; Xu et al., 2019 (the supervised rows of their tables)"
    input_kind = SampleKind.CLIP

    def augment(self, x, gen=None):
        """x: uint8 (N, T, 3, H, W) -> float (N, T, 3, S, S) in [0, 1], one crop and flip per clip."""
        p = self.hparams
        return augment_clips(to_float(x), self.image_size, (p["crop_min"], 1.0), p["flip_p"], gen=gen or self.gen)

    @torch.no_grad()
    def input_preview(self, x):
        return {"original": tile_frames(to_float(x)),
                "augmented": tile_frames(self.augment(x, torch.Generator().manual_seed(0)))}
