"""What a method feeds its network, for the workbench's augmentation preview: a few train
images as they are and what the method's ``input_preview`` makes of them (views,
rotations, tiles...), as (n, H, W, 3) float arrays in [0, 1] ready to draw."""
from __future__ import annotations

import numpy as np


def augmentation_preview(home, config: dict, n: int = 8, seed: int = 0) -> dict[str, np.ndarray]:
    """{name: (n, H, W, 3) float32 in [0, 1]} from the method of ``config`` (a run config's
    ``data``, ``backbone`` and ``method``) on ``n`` samples of its data. ``seed`` draws the
    augmentations (and the throwaway weights); the caller's torch random stream is left
    as it was. A plugin's error propagates as raised."""
    import torch

    from engine import registry
    from engine.data.frames import as_input
    from engine.data.preview import preview_dataset, preview_split, sample_indices
    from engine.data.tensors import images_to_tensor, tensor_to_images

    method_cls = registry.get("method", config["method"]["id"]).cls
    dataset = as_input(preview_dataset(home, config["data"]["id"], config["data"]["params"]), method_cls.input_kind)
    _, split = preview_split(dataset)
    x = images_to_tensor(split.images[sample_indices(len(split), n)])
    size = int(x.shape[-1])
    with torch.random.fork_rng():  # building modules draws weights; keep the caller's stream alone
        torch.manual_seed(seed)
        backbone = registry.create_backbone(config["backbone"]["id"], config["backbone"]["params"], size)
        method = registry.create_method(config["method"]["id"], backbone, config["method"]["params"],
                                        size, len(split.classes) or None)
        method.set_seed(seed)
        method.eval()
        with torch.no_grad():
            views = method.input_preview(x)
    out = {}
    for name, batch in views.items():
        batch = batch.float()
        if batch.shape[1] == 1:  # single-channel inputs (e.g. an L channel) shown in grey
            batch = batch.expand(-1, 3, -1, -1)
        out[name] = tensor_to_images(batch[:, :3].clamp(0, 1))
    return out
