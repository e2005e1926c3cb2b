"""Image arrays <-> tensors: the datasets' (N, H, W, 3) uint8 numpy images become the
(N, 3, H, W) uint8 tensors the trainer, the online probe, the evaluation and the previews
feed to methods, and tensors become (N, H, W, 3) arrays again for drawing. Clips go the
same way with a time axis: (N, T, H, W, 3) records <-> (N, T, 3, H, W) tensors."""
from __future__ import annotations

import numpy as np
import torch


def channels_first(x: torch.Tensor) -> torch.Tensor:
    """(..., H, W, C) -> contiguous (..., C, H, W): (N, H, W, 3) images or (N, T, H, W, 3) clips."""
    return x.movedim(-1, -3).contiguous()


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 numpy -> contiguous (N, 3, H, W) uint8 tensor; (N, T, H, W, 3)
    clips -> (N, T, 3, H, W)."""
    if not images.flags.writeable:  # a cache's read-only memory map: torch wants writable memory
        return torch.from_numpy(np.array(np.moveaxis(images, -1, -3), order="C"))
    return channels_first(torch.from_numpy(np.ascontiguousarray(images)))


def tensor_to_images(batch: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) tensor -> (N, H, W, C) numpy array of the same dtype, on the CPU."""
    return batch.detach().cpu().movedim(-3, -1).contiguous().numpy()
