"""``shapes``: the built-in dataset, generated on first use and cached.

Coloured geometric shapes on textured backgrounds, labeled by shape. Colour, size,
rotation, position and background are random, so a representation must capture shape and
ignore the rest. Seeded and deterministic: the same parameters give the same pixels.
"""
from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw

from engine.api import Chunk, DatasetPlugin, Param, SplitSpec, chunk_length, register_dataset

CLASSES = ("circle", "triangle", "square", "pentagon", "star", "cross", "ring", "crescent",
           "arrow", "semicircle", "lshape", "heart")
_SCALE = 4  # draw at 4x and downsample: antialiased edges


def _polygon(n, r, cx, cy, rot, inner=None):
    pts = []
    step = math.pi / n if inner else 2 * math.pi / n
    for i in range(2 * n if inner else n):
        rad = inner * r if inner and i % 2 else r
        a = rot + i * step
        pts.append((cx + rad * math.cos(a), cy + rad * math.sin(a)))
    return pts


def _rotated(points, cx, cy, rot):
    c, s = math.cos(rot), math.sin(rot)
    return [(cx + x * c - y * s, cy + x * s + y * c) for x, y in points]


def _draw_shape(draw, shape, cx, cy, r, rot, fill, bg):
    if shape == "circle":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
    elif shape == "triangle":
        draw.polygon(_polygon(3, r, cx, cy, rot), fill=fill)
    elif shape == "square":
        draw.polygon(_polygon(4, r, cx, cy, rot), fill=fill)
    elif shape == "pentagon":
        draw.polygon(_polygon(5, r, cx, cy, rot), fill=fill)
    elif shape == "star":
        draw.polygon(_polygon(5, r, cx, cy, rot, inner=0.42), fill=fill)
    elif shape == "cross":
        w = r * 0.33
        for pts in ([(-r, -w), (r, -w), (r, w), (-r, w)], [(-w, -r), (w, -r), (w, r), (-w, r)]):
            draw.polygon(_rotated(pts, cx, cy, rot), fill=fill)
    elif shape == "ring":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        draw.ellipse([cx - r * 0.55, cy - r * 0.55, cx + r * 0.55, cy + r * 0.55], fill=bg)
    elif shape == "crescent":
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        ox, oy = 0.5 * r * math.cos(rot), 0.5 * r * math.sin(rot)
        draw.ellipse([cx + ox - r * 0.85, cy + oy - r * 0.85, cx + ox + r * 0.85, cy + oy + r * 0.85], fill=bg)
    elif shape == "arrow":
        pts = [(-r, -0.25 * r), (0.1 * r, -0.25 * r), (0.1 * r, -0.7 * r), (r, 0), (0.1 * r, 0.7 * r),
               (0.1 * r, 0.25 * r), (-r, 0.25 * r)]
        draw.polygon(_rotated(pts, cx, cy, rot), fill=fill)
    elif shape == "semicircle":
        start = math.degrees(rot)
        draw.pieslice([cx - r, cy - r, cx + r, cy + r], start, start + 180, fill=fill)
    elif shape == "lshape":
        pts = [(-r, -r), (-0.3 * r, -r), (-0.3 * r, 0.4 * r), (r, 0.4 * r), (r, r), (-r, r)]
        draw.polygon(_rotated(pts, cx, cy, rot), fill=fill)
    elif shape == "heart":
        pts = [(r * 16 * math.sin(t) ** 3 / 17, -r * (13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t)
                - math.cos(4 * t)) / 17) for t in np.linspace(0, 2 * math.pi, 40)]
        draw.polygon(_rotated(pts, cx, cy, rot), fill=fill)


def _background(rng, size):
    """A textured background: stripes, checks or smooth noise in two low-contrast colours."""
    c1 = rng.integers(0, 256, 3)
    c2 = np.clip(c1 + rng.integers(-60, 61, 3), 0, 255)
    yy, xx = np.mgrid[0:size, 0:size] / size
    kind = rng.integers(3)
    freq = rng.uniform(2, 8)
    angle = rng.uniform(0, math.pi)
    if kind == 0:
        t = (np.sin(2 * math.pi * freq * (xx * math.cos(angle) + yy * math.sin(angle))) > 0).astype(float)
    elif kind == 1:
        t = ((np.floor(xx * freq) + np.floor(yy * freq)) % 2).astype(float)
    else:
        coarse = rng.uniform(0, 1, (5, 5))
        t = np.asarray(Image.fromarray((coarse * 255).astype(np.uint8)).resize((size, size), Image.BICUBIC)) / 255
    img = c1[None, None] * (1 - t[..., None]) + c2[None, None] * t[..., None]
    return img.astype(np.uint8), tuple(int(v) for v in c1)


def _angle(rng: np.random.Generator, max_rotation: float) -> float:
    """The shape's rotation in radians: uniform over the circle at 180 degrees, else uniform
    in [-max_rotation, max_rotation] degrees around the shape's canonical pose."""
    u = rng.uniform(0, 1)
    return 2 * math.pi * u if max_rotation >= 180 else math.radians(max_rotation) * (2 * u - 1)


def render(label: int, rng: np.random.Generator, size: int, max_rotation: float = 180,
           background: str = "textured") -> np.ndarray:
    """One (size, size, 3) uint8 image of shape ``CLASSES[label]``."""
    big = size * _SCALE
    bg, bg_colour = _background(rng, big)   # drawn either way: the other draws stay the same
    if background == "plain":
        bg = np.broadcast_to(np.asarray(bg_colour, dtype=np.uint8), bg.shape).copy()
    img = Image.fromarray(bg)
    draw = ImageDraw.Draw(img)
    r = rng.uniform(0.22, 0.42) * big
    cx, cy = rng.uniform(r, big - r, 2)
    fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    while sum(abs(a - b) for a, b in zip(fill, bg_colour)) < 180:  # keep the shape visible
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    _draw_shape(draw, CLASSES[label], cx, cy, r, _angle(rng, max_rotation), fill, bg_colour)
    return np.asarray(img.resize((size, size), Image.LANCZOS))


@register_dataset
class Shapes(DatasetPlugin):
    id = "shapes"
    title = "Shapes (built-in)"
    summary = ("Generated on this machine, nothing to download: coloured geometric shapes (num_classes of them) "
               "at random size, rotation and position on striped, checked or cloudy backgrounds. "
               "Labels are the shape, so a good representation captures shape and ignores colour.")
    citation = "Pretext built-in, in the spirit of dSprites (Matthey et al., 2017)"
    params = [
        Param("image_size", "int", 32, "side of the square images in pixels", 16, 128, unit="px"),
        Param("train_size", "int", 4000, "images in the train split (also the unlabeled split)", 12, 200000),
        Param("test_size", "int", 1000, "images in the labeled test split", 12, 50000),
        Param("num_classes", "int", 10, "how many shape classes to use", 2, len(CLASSES)),
        Param("seed", "int", 0, "generator seed", 0, 2**31 - 1),
        Param("max_rotation", "float", 180.0, "largest rotation of a shape from its canonical pose, in degrees "
              "(180: any orientation; small values give the data an 'upright', as natural photos have, "
              "which rotation prediction relies on)", 0.0, 180.0, unit="°"),
        Param("background", "choice", "textured", "textured: stripes, checks or clouds, a cue that tells images "
              "apart without their shape; plain: one colour", choices=("textured", "plain")),
    ]

    def _labels(self, name: str) -> tuple[np.ndarray, np.random.Generator]:
        """(n,) int64 labels of split ``name`` and the generator positioned to draw its images."""
        p = self.params
        n = p["test_size"] if name == "test" else p["train_size"]
        rng = np.random.default_rng([p["seed"], 1 if name == "test" else 0])
        labels = np.arange(n) % p["num_classes"]
        rng.shuffle(labels)
        return labels.astype(np.int64), rng

    def split_spec(self, name):
        p = self.params
        n = p["test_size"] if name == "test" else p["train_size"]
        return SplitSpec(n, (p["image_size"], p["image_size"], 3), tuple(CLASSES[: p["num_classes"]]),
                         labeled=name != "unlabeled")

    def iter_split(self, name, start=0):
        """Images are drawn one after another from one generator, so a resumed build redraws
        (and drops) the first ``start`` to reach the same pixels."""
        p = self.params
        labels, rng = self._labels(name)
        step = chunk_length((p["image_size"], p["image_size"], 3))
        for i in range(0, len(labels), step):
            chunk = labels[i:i + step]
            images = np.stack([render(int(c), rng, p["image_size"], p["max_rotation"], p["background"])
                               for c in chunk])
            if i + len(chunk) <= start:
                continue
            off = max(0, start - i)
            yield Chunk(images[off:], None if name == "unlabeled" else chunk[off:])
