"""Patch layouts of the context tasks: relative position's patches never touch (Doersch et
al., 2015: a gap plus a little jitter), over many draws and image sizes."""
from __future__ import annotations

import pytest
import torch

import engine.ssl.patch_task as patch_task
import plugins.methods.relative_position as relpos
from tests.plugins.method_harness import build_method


def _gaps(tops, lefts, tile, a, b):
    """Pixels between tiles a and b of every draw along the axis they are neighbours on
    (the larger of the two axis gaps: diagonal tiles touch only if both are <= 0)."""
    gy = (tops[:, b] - tops[:, a]).abs() - tile
    gx = (lefts[:, b] - lefts[:, a]).abs() - tile
    return torch.maximum(gy, gx)


@pytest.mark.parametrize("image_size", [32, 48, 96, 224])
def test_relative_position_patches_never_touch(monkeypatch, image_size):
    seen = []
    real = patch_task.grid_origins
    monkeypatch.setattr(patch_task, "grid_origins", lambda *a, **k: seen.append(real(*a, **k)) or seen[-1])
    m = build_method("relative_position", {"hidden": 16}, image_size=max(image_size, 32))
    x = torch.zeros(2000, 3, m.image_size, m.image_size, dtype=torch.uint8)
    m.tasks(x)
    tops, lefts = seen[-1]
    for nb in relpos.NEIGHBOURS:
        assert int(_gaps(tops, lefts, m.tile, relpos.CENTRE, nb).min()) >= 1, (image_size, nb)
    if image_size >= 96:
        assert m.jitter >= 1  # the paper's jitter is there where the image has room for it
