"""Image arrays <-> tensors: the datasets' (N, H, W, 3) uint8 numpy images become the
(N, 3, H, W) uint8 tensors the trainer, the online probe, the evaluation and the previews
feed to methods, and tensors become (N, H, W, 3) arrays again for drawing."""
from __future__ import annotations

import numpy as np
import torch


def images_to_tensor(images: np.ndarray) -> torch.Tensor:
    """(N, H, W, 3) uint8 numpy -> contiguous (N, 3, H, W) uint8 tensor."""
    if not images.flags.writeable:  # a cache's read-only memory map: torch wants writable memory
        return torch.from_numpy(np.array(images.transpose(0, 3, 1, 2), order="C"))
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).contiguous()


def tensor_to_images(batch: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) tensor -> (N, H, W, C) numpy array of the same dtype, on the CPU."""
    return batch.detach().cpu().permute(0, 2, 3, 1).contiguous().numpy()
