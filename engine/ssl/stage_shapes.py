"""What a backbone's ``stages(x)`` maps look like at a given image size, for methods that
build decoders on them (colorization, inpainting)."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def stage_shapes(backbone: nn.Module, image_size: int) -> list[tuple[int, int, int]]:
    """(C, h, w) of each stage map for a (2, 3, image_size, image_size) input. Runs in eval
    mode on the backbone's device so that BatchNorm statistics are not touched."""
    was_training = backbone.training
    backbone.eval()
    try:
        param = next(backbone.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        maps = backbone.stages(torch.zeros(2, 3, image_size, image_size, device=device))
    finally:
        backbone.train(was_training)
    return [tuple(m.shape[1:]) for m in maps]
