"""Batched, seeded image augmentation on the training device.

Every transform draws per-sample parameters from a ``torch.Generator`` (on the CPU, so the
stream is the same on any device) and applies them to the whole batch at once: no PIL, no
per-image Python loop. Inputs are uint8 ``(N, 3, H, W)``; outputs float ``(N, 3, S, S)``.
The SimCLR recipe (Chen et al., 2020): random resized crop, flip, colour jitter, grayscale,
Gaussian blur; solarize as in BYOL (Grill et al., 2020).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from engine.training import distributed

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float (N, 3, H, W) in [0, 1]."""
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def normalize(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] images -> standardised network input (ImageNet statistics)."""
    return (x - MEAN.to(x.device, x.dtype)) / STD.to(x.device, x.dtype)


def denormalize(x: torch.Tensor) -> torch.Tensor:
    return (x * STD.to(x.device, x.dtype) + MEAN.to(x.device, x.dtype)).clamp(0, 1)


def _rand(n, gen):
    """n draws from U(0, 1). Under torchrun each rank augments only its slice of the global
    batch, so it draws for the whole global batch and keeps its slice: every image gets the
    same parameters whatever the number of ranks (engine/training/distributed.py)."""
    shard = distributed.current()
    if not shard.enabled:
        return torch.rand(n, generator=gen)
    return torch.rand(n * shard.world, generator=gen)[shard.rank * n:(shard.rank + 1) * n]


def _uniform(n, low, high, gen):
    return _rand(n, gen) * (high - low) + low


def _coin(n, p, gen):
    return _rand(n, gen) < p


CROP_ATTEMPTS = 10  # torchvision's RandomResizedCrop tries 10 boxes before its fallback


def crop_boxes(n: int, height: int, width: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3), gen=None):
    """n crop boxes drawn as torchvision's ``RandomResizedCrop.get_params`` draws them, batched.

    Per sample, up to 10 attempts: area ~ U(scale) of the image, log aspect ~ U(log ratio),
    side lengths rounded to pixels; the first attempt that fits the image wins, its corner
    uniform over the positions that keep it inside. None fits: the central crop of the whole
    image clamped to ``ratio``. Returns (x0, y0, w, h): (n,) float pixels each."""
    draws = _rand(n * CROP_ATTEMPTS, gen).view(n, CROP_ATTEMPTS)
    log_r = _uniform(n * CROP_ATTEMPTS, math.log(ratio[0]), math.log(ratio[1]), gen).view(n, CROP_ATTEMPTS)
    area = height * width * (scale[0] + (scale[1] - scale[0]) * draws)
    aspect = torch.exp(log_r)
    w = torch.round(torch.sqrt(area * aspect))
    h = torch.round(torch.sqrt(area / aspect))
    fits = (w > 0) & (w <= width) & (h > 0) & (h <= height)
    first = torch.where(fits.any(1), fits.float().argmax(1), torch.full((n,), -1))
    pick = first.clamp(min=0).view(n, 1)
    w, h = w.gather(1, pick).squeeze(1), h.gather(1, pick).squeeze(1)
    # the fallback: the whole image, cut to the nearest allowed aspect, centred
    in_ratio = width / height
    if in_ratio < min(ratio):
        fw, fh = width, round(width / min(ratio))
    elif in_ratio > max(ratio):
        fw, fh = round(height * max(ratio)), height
    else:
        fw, fh = width, height
    none = first < 0
    w = torch.where(none, torch.tensor(float(fw)), w)
    h = torch.where(none, torch.tensor(float(fh)), h)
    u, v = _rand(n, gen), _rand(n, gen)
    x0 = torch.where(none, (width - w) / 2, torch.floor(u * (width - w + 1)))
    y0 = torch.where(none, (height - h) / 2, torch.floor(v * (height - h + 1)))
    return x0, y0, w, h


def resized_crop(x: torch.Tensor, size: int, scale=(0.08, 1.0), ratio=(3 / 4, 4 / 3),
                 flip_p: float = 0.5, gen=None) -> torch.Tensor:
    """Random resized crop + horizontal flip for a batch in one ``grid_sample``.

    x: (N, C, H, W) float -> (N, C, size, size). Boxes as torchvision's RandomResizedCrop
    samples them (``crop_boxes``: scale (0.08, 1), ratio (3/4, 4/3), 10 attempts, then the
    central crop), resized bilinearly."""
    n, _, height, width = x.shape
    x0, y0, w, h = crop_boxes(n, height, width, scale, ratio, gen)
    flip = torch.where(_coin(n, flip_p, gen), -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = w / width * flip  # affine_grid works in [-1, 1]: sides as fractions
    theta[:, 0, 2] = (x0 + w / 2) / width * 2 - 1
    theta[:, 1, 1] = h / height
    theta[:, 1, 2] = (y0 + h / 2) / height * 2 - 1
    theta = theta.to(x.device, x.dtype)
    grid = F.affine_grid(theta, (n, x.shape[1], size, size), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)


def _gray(x):
    return (0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3])


def _rgb_to_hsv(x):
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    maxc, _ = x.max(1)
    minc, _ = x.min(1)
    v = maxc
    delta = maxc - minc
    s = delta / maxc.clamp(min=1e-8)
    d = delta.clamp(min=1e-8)
    h = torch.where(maxc == r, ((g - b) / d) % 6, torch.where(maxc == g, (b - r) / d + 2, (r - g) / d + 4))
    h = torch.where(delta > 0, h / 6.0, torch.zeros_like(h))
    return torch.stack([h, s, v], 1)


def _hsv_to_rgb(x):
    h, s, v = x[:, 0], x[:, 1], x[:, 2]
    k = lambda n: (n + h * 6) % 6  # noqa: E731 -- the standard closed form
    f = lambda n: v - v * s * torch.clamp(torch.minimum(k(n), 4 - k(n)), 0, 1)  # noqa: E731
    return torch.stack([f(5), f(3), f(1)], 1)


def color_jitter(x, brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1, p=0.8, gen=None):
    """Per-sample colour jitter applied with probability p. x: (N, 3, H, W) in [0, 1].

    The four adjustments are applied in a fixed order (torchvision randomises it; the
    difference is immaterial for SSL and keeps the batch path branch-free)."""
    n = x.shape[0]
    on = _coin(n, p, gen).to(x.device).view(n, 1, 1, 1)
    shape = (n, 1, 1, 1)
    b = _uniform(n, 1 - brightness, 1 + brightness, gen).view(shape).to(x.device, x.dtype)
    c = _uniform(n, 1 - contrast, 1 + contrast, gen).view(shape).to(x.device, x.dtype)
    s = _uniform(n, 1 - saturation, 1 + saturation, gen).view(shape).to(x.device, x.dtype)
    hshift = _uniform(n, -hue, hue, gen).view(n, 1, 1).to(x.device, x.dtype)
    y = (x * b).clamp(0, 1)
    mean = _gray(y).mean(dim=(1, 2, 3), keepdim=True)
    y = ((y - mean) * c + mean).clamp(0, 1)
    g = _gray(y)
    y = ((y - g) * s + g).clamp(0, 1)
    if hue > 0:
        hsv = _rgb_to_hsv(y)
        hsv = torch.stack([(hsv[:, 0] + hshift) % 1.0, hsv[:, 1], hsv[:, 2]], 1)
        y = _hsv_to_rgb(hsv).clamp(0, 1)
    return torch.where(on, y, x)


def random_grayscale(x, p=0.2, gen=None):
    on = _coin(x.shape[0], p, gen).to(x.device).view(-1, 1, 1, 1)
    return torch.where(on, _gray(x).expand_as(x), x)


def gaussian_blur(x, p=0.5, sigma=(0.1, 2.0), kernel_frac=0.1, gen=None):
    """Per-sample Gaussian blur with sigma ~ U(sigma), kernel ~ 10 % of the image side
    (Chen et al., 2020), as one grouped separable convolution."""
    n, c, h, w = x.shape
    on = _coin(n, p, gen)
    sig = _uniform(n, sigma[0], sigma[1], gen)
    radius = max(1, int(kernel_frac * h) // 2)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t.view(1, -1) ** 2) / (2 * sig.view(-1, 1) ** 2))
    k = k / k.sum(1, keepdim=True)
    ident = torch.zeros_like(k)
    ident[:, radius] = 1.0
    k = torch.where(on.view(-1, 1), k, ident).to(x.device, x.dtype)
    kx = k.repeat_interleave(c, 0).view(n * c, 1, 1, -1)
    ky = k.repeat_interleave(c, 0).view(n * c, 1, -1, 1)
    y = x.reshape(1, n * c, h, w)
    y = F.conv2d(F.pad(y, (radius, radius, 0, 0), mode="reflect"), kx, groups=n * c)
    y = F.conv2d(F.pad(y, (0, 0, radius, radius), mode="reflect"), ky, groups=n * c)
    return y.view(n, c, h, w)


def solarize(x, p=0.0, threshold=0.5, gen=None):
    on = _coin(x.shape[0], p, gen).to(x.device).view(-1, 1, 1, 1)
    return torch.where(on & (x >= threshold), 1.0 - x, x)


@dataclass
class ViewRecipe:
    """Strengths of one augmented view; the defaults are SimCLR's (Chen et al., 2020)."""

    size: int = 32
    crop_min: float = 0.08  # torchvision's RandomResizedCrop, as SimCLR, MoCo v2, BYOL use
    crop_max: float = 1.0
    flip_p: float = 0.5
    jitter_strength: float = 0.5
    jitter_p: float = 0.8
    gray_p: float = 0.2
    blur_p: float = 0.0
    solarize_p: float = 0.0

    def __call__(self, x: torch.Tensor, gen: torch.Generator | None = None, norm: bool = True):
        """x: (N, 3, H, W) uint8 or float in [0, 1] -> (N, 3, size, size) float."""
        s = self.jitter_strength
        y = resized_crop(to_float(x), self.size, (self.crop_min, self.crop_max), flip_p=self.flip_p, gen=gen)
        y = color_jitter(y, 0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s, p=self.jitter_p, gen=gen)
        y = random_grayscale(y, self.gray_p, gen=gen)
        if self.blur_p > 0:
            y = gaussian_blur(y, self.blur_p, gen=gen)
        if self.solarize_p > 0:
            y = solarize(y, self.solarize_p, gen=gen)
        return normalize(y) if norm else y


def view_params(prefix: str = "", crop_min: float = 0.08):
    """The schema entries of a ViewRecipe, for methods that use two augmented views;
    ``crop_min`` is the paper's smallest crop (0.08 in SimCLR; DINO's global crops 0.4)."""
    from engine.params import Param

    return [
        Param(prefix + "crop_min", "float", crop_min, "smallest crop, as a fraction of the image area (0.08 as in "
              "torchvision and the papers; small data often uses 0.2)", 0.01, 1.0),
        Param(prefix + "jitter_strength", "float", 0.5, "colour jitter strength s (brightness/contrast/saturation 0.8 s, hue 0.2 s)", 0.0, 1.0),
        Param(prefix + "jitter_p", "float", 0.8, "probability of colour jitter", 0.0, 1.0),
        Param(prefix + "gray_p", "float", 0.2, "probability of grayscale", 0.0, 1.0),
        Param(prefix + "blur_p", "float", 0.0, "probability of Gaussian blur (0.5 in SimCLR at 224 px; off for 32 px as in its CIFAR setup)", 0.0, 1.0),
        Param(prefix + "solarize_p", "float", 0.0, "probability of solarization", 0.0, 1.0),
    ]


def recipe_from(params: dict, size: int, prefix: str = "", **overrides) -> ViewRecipe:
    keys = ("crop_min", "jitter_strength", "jitter_p", "gray_p", "blur_p", "solarize_p")
    kw = {k: params[prefix + k] for k in keys if prefix + k in params}
    kw.update(overrides)
    return ViewRecipe(size=size, **kw)
