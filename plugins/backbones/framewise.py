"""A frame-wise clip backbone: any registered image backbone applied to every frame of a
clip, its per-frame features pooled over time (mean, as in the frame-averaging baselines of
Karpathy et al., 2014, or concatenated in time order, their "late fusion")."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from engine.api import (
    ClipBackboneBase,
    Param,
    ParamError,
    SampleKind,
    create_backbone,
    get_entry,
    register_backbone,
)

IMAGE_BACKBONES = ("convnet", "resnet18", "resnet50", "vit_tiny", "vit_small")


@register_backbone
class FrameWise(ClipBackboneBase):
    id = "framewise"
    title = "Frame-wise image backbone"
    summary = ("Runs an image backbone (the small ConvNet by default) on every frame of a clip with shared "
               "weights. Per-frame features are the image backbone's; the clip's feature is their mean over "
               "time, or their concatenation in time order (late fusion), which keeps the order visible.")
    citation = "Karpathy et al., 2014 (CVPR), single-frame and late-fusion models"
    params = [
        Param("image_backbone", "choice", "convnet", "the built-in image backbone run on each frame (at its "
              "defaults, with this width where it has one)", choices=IMAGE_BACKBONES),
        Param("pooling", "choice", "mean", "mean: average the frame features over time; concat: concatenate "
              "them in time order over concat_frames equal time bins", choices=("mean", "concat")),
        Param("concat_frames", "int", 8, "time bins of concat pooling: a clip of this many frames is concatenated "
              "frame by frame; a longer one averages within each bin, a shorter one repeats its frames", 1, 256),
        Param("width", "int", 32, "width of the image backbone, where it has one", 8, 256),
    ]

    def __init__(self, image_size: int = 32, image_backbone: str = "convnet", pooling: str = "mean",
                 concat_frames: int = 8, width: int = 32):
        super().__init__()
        entry = get_entry("backbone", image_backbone)
        if entry.cls.input_kind != SampleKind.IMAGE:
            raise ParamError(f"framewise needs an image backbone; {image_backbone} encodes {entry.cls.input_kind.value}")
        inner = {"width": width} if any(p.name == "width" for p in entry.schema) else {}
        self.image = create_backbone(image_backbone, inner, image_size)
        self.stem, self.layers = self.image.stem, self.image.layers
        self.pooling, self.concat_frames = pooling, concat_frames
        self.frame_dims = self.image.num_features
        self.num_features = self.frame_dims * (concat_frames if pooling == "concat" else 1)

    @property
    def stage_names(self) -> list[str]:
        return self.image.stage_names

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, 3, H, W) -> (N, T, frame_dims), every frame encoded on its own."""
        n, t = x.shape[:2]
        return self.image.forward_features(x.flatten(0, 1)).view(n, t, -1)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, T, 3, H, W) -> (N, num_features), frame features pooled over time: their mean,
        or (concat) their concatenation over ``concat_frames`` time bins, (N, concat_frames * frame_dims)."""
        f = self.frame_features(x)
        if self.pooling == "mean":
            return f.mean(dim=1)
        # Binning keeps the width fixed for any clip length, so sub-clips (CVRL's, VCOP's)
        # and whole clips at evaluation share one feature space.
        if f.shape[1] != self.concat_frames:
            f = F.adaptive_avg_pool1d(f.transpose(1, 2), self.concat_frames).transpose(1, 2)
        return f.flatten(1)

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (N, T, 3, H, W) -> the image backbone's maps per frame, as (N, C, T, H, W)."""
        n, t = x.shape[:2]
        return [m.view(n, t, *m.shape[1:]).transpose(1, 2) for m in self.image.stages(x.flatten(0, 1))]
