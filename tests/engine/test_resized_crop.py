"""The batched random resized crop samples boxes as torchvision's RandomResizedCrop does
(scale (0.08, 1), ratio (3/4, 4/3), 10 attempts, then the central crop)."""
from __future__ import annotations

import pytest
import torch

from engine.ssl import augment


def _torchvision_areas(n: int, size: int) -> torch.Tensor:
    from torchvision.transforms import RandomResizedCrop

    torch.manual_seed(0)
    img = torch.zeros(1, size, size)
    areas = []
    for _ in range(n):
        _, _, h, w = RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        areas.append(h * w / size**2)
    return torch.tensor(areas)


@pytest.mark.parametrize("size", [32, 96])
def test_the_mean_crop_area_is_torchvisions(size):
    pytest.importorskip("torchvision")
    x0, y0, w, h = augment.crop_boxes(20000, size, size, gen=torch.Generator().manual_seed(1))
    ours = (w * h / size**2)
    theirs = _torchvision_areas(20000, size)
    assert abs(ours.mean() - theirs.mean()) < 0.01, (float(ours.mean()), float(theirs.mean()))
    assert abs(ours.std() - theirs.std()) < 0.01
    # the boxes stay inside the image, in whole pixels
    assert bool(((x0 >= 0) & (y0 >= 0) & (x0 + w <= size) & (y0 + h <= size)).all())
    assert torch.equal(w, w.round()) and torch.equal(h, h.round())


def test_the_default_recipe_uses_the_papers_scale():
    assert augment.ViewRecipe().crop_min == 0.08
    defaults = {p.name: p.default for p in augment.view_params()}
    assert defaults["crop_min"] == 0.08


def test_without_a_fitting_attempt_the_crop_is_central():
    # a scale the image cannot hold with any aspect in (3/4, 4/3) forces the fallback
    x0, y0, w, h = augment.crop_boxes(50, 10, 20, scale=(2.5, 2.5), gen=torch.Generator().manual_seed(0))
    assert torch.all(h == 10) and torch.all(w == round(10 * 4 / 3))
    assert torch.all(x0 == (20 - w) / 2) and torch.all(y0 == 0)
