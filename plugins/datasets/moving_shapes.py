"""``moving_shapes``: the built-in clip dataset, generated on first use and cached.

Short clips of coloured shapes (drawn by ``shapes``' routines, same package) that move,
rotate and scale over a textured background, bouncing off the borders now and then. Each
clip has two labellings: ``label``, the shape of its main object, and ``motion_labels``,
what that object does (moves right / left / down / up, turns clockwise / anticlockwise,
grows / shrinks). Every object also drifts a little in the other ways, so a motion class
is the dominant motion, not the only one. Seeded and deterministic: clip ``i`` of a split
depends on (seed, split, i) only, so a resumed build draws exactly the same pixels.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from engine.api import (
    Chunk,
    DatasetPlugin,
    Param,
    SampleKind,
    SplitSpec,
    chunk_length,
    register_dataset,
)
from plugins.datasets.shapes import _SCALE, _background, _draw_shape

# shapes whose rotation is visible (no circle or ring)
SHAPES = ("triangle", "square", "star", "cross", "arrow", "lshape", "heart", "crescent", "semicircle", "pentagon")
MOTIONS = ("right", "left", "down", "up", "clockwise", "anticlockwise", "growing", "shrinking")
_DIRECTIONS = {"right": (1, 0), "left": (-1, 0), "down": (0, 1), "up": (0, -1)}
MOTION_SETS = {"all": MOTIONS, "moves": MOTIONS[:4], "turns": MOTIONS[4:6], "scales": MOTIONS[6:]}
_R_MIN, _R_MAX = 0.12, 0.34  # radius bounds, fractions of the side; scaling bounces off them
_DRIFT = 0.15  # the non-dominant motions, as a fraction of the dominant one's speed


@dataclass
class Mover:
    """One object: position, radius (fractions of the side), angle (rad) and their rates
    per second."""

    shape: str
    fill: tuple
    x: float
    y: float
    r: float
    angle: float
    vx: float
    vy: float
    vr: float      # log-radius per second
    vangle: float  # rad per second

    def step(self, dt: float) -> None:
        """Advance by ``dt`` seconds, bouncing off the borders and the radius bounds."""
        self.angle += self.vangle * dt
        self.r *= math.exp(self.vr * dt)
        if not _R_MIN <= self.r <= _R_MAX:
            self.r, self.vr = min(max(self.r, _R_MIN), _R_MAX), -self.vr
        self.x, self.vx = _bounce(self.x + self.vx * dt, self.vx, self.r)
        self.y, self.vy = _bounce(self.y + self.vy * dt, self.vy, self.r)


def _bounce(p: float, v: float, r: float) -> tuple[float, float]:
    """Position ``p`` and velocity ``v`` reflected off the borders [r, 1 - r]."""
    if p < r:
        return 2 * r - p, abs(v)
    if p > 1 - r:
        return 2 * (1 - r) - p, -abs(v)
    return p, v


def _mover(rng: np.random.Generator, shape: str, motion: str, speed: float, bg_colour) -> Mover:
    """An object doing ``motion`` at ``speed`` (sides per second; turns at speed x 360 deg/s,
    scales by e^(2 speed) per second), with a little of every other motion."""
    fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    while sum(abs(a - b) for a, b in zip(fill, bg_colour)) < 180:  # keep the shape visible
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
    drift = rng.uniform(-_DRIFT, _DRIFT, 4) * speed
    m = Mover(shape, fill, 0, 0, rng.uniform(_R_MIN + 0.04, _R_MAX - 0.08), rng.uniform(0, 2 * math.pi),
              drift[0], drift[1], drift[2], drift[3] * 2 * math.pi)
    if motion in _DIRECTIONS:
        dx, dy = _DIRECTIONS[motion]
        tilt = rng.uniform(-0.25, 0.25)  # up to about 15 degrees off the axis
        m.vx, m.vy = speed * (dx * math.cos(tilt) - dy * math.sin(tilt)), speed * (dx * math.sin(tilt) + dy * math.cos(tilt))
    elif motion in ("clockwise", "anticlockwise"):
        m.vangle = (1 if motion == "clockwise" else -1) * speed * 2 * math.pi * rng.uniform(0.8, 1.2)
    else:
        m.vr = (1 if motion == "growing" else -1) * 2 * speed * rng.uniform(0.8, 1.2)
        m.r = _R_MIN if motion == "growing" else _R_MAX
    m.x, m.y = rng.uniform(m.r, 1 - m.r, 2)
    return m


def render_clip(shape: int, motion: int, rng: np.random.Generator, size: int, frames: int, fps: float,
                speed: float, num_objects: int = 1, background: str = "textured", on_move=None) -> np.ndarray:
    """One (frames, size, size, 3) uint8 clip: ``SHAPES[shape]`` doing ``MOTIONS[motion]``
    on top of ``num_objects - 1`` distractors doing random motions. ``on_move(t, mover,
    velocity_before, main)``, when given, is called after each mover's step of frame ``t``
    (``main``: the labelled shape); it draws no random numbers."""
    big = size * _SCALE
    bg, bg_colour = _background(rng, big)
    if background == "plain":
        bg = np.broadcast_to(np.asarray(bg_colour, dtype=np.uint8), bg.shape).copy()
    others = [_mover(rng, SHAPES[rng.integers(len(SHAPES))], MOTIONS[rng.integers(len(MOTIONS))], speed, bg_colour)
              for _ in range(num_objects - 1)]
    movers = [*others, _mover(rng, SHAPES[shape], MOTIONS[motion], speed, bg_colour)]  # main one on top
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        img = Image.fromarray(bg)
        draw = ImageDraw.Draw(img)
        for k, m in enumerate(movers):
            _draw_shape(draw, m.shape, m.x * big, m.y * big, m.r * big, m.angle, m.fill, bg_colour)
            before = (m.vx, m.vy)
            m.step(1.0 / fps)
            if on_move is not None:
                on_move(t, m, before, k == len(movers) - 1)
        out[t] = np.asarray(img.resize((size, size), Image.LANCZOS))
    return out


@register_dataset
class MovingShapes(DatasetPlugin):
    id = "moving_shapes"
    title = "Moving shapes (built-in clips)"
    summary = ("Generated on this machine, nothing to download: short clips of coloured shapes that move, "
               "turn and grow or shrink over striped, checked or cloudy backgrounds, bouncing off the "
               "borders. Two labellings: the main object's shape (label) and its motion (motion_labels: "
               "right, left, down, up, clockwise, anticlockwise, growing, shrinking).")
    citation = "Pretext built-in, in the spirit of Moving MNIST (Srivastava, Mansimov & Salakhutdinov, 2015)"
    sample_kind = SampleKind.CLIP
    target_classes = {"motion_labels": MOTIONS}  # noqa: RUF012 -- a declaration, never mutated
    params = [
        Param("image_size", "int", 32, "side of the square frames in pixels", 16, 128),
        Param("frames", "int", 8, "frames per clip", 2, 64),
        Param("fps", "float", 8.0, "frames per second: the time step between frames is 1 / fps", 1.0, 60.0),
        Param("speed", "float", 0.5, "speed of the dominant motion in image sides per second (turning: "
              "speed x 360 degrees per second; scaling: e^(2 speed) per second)", 0.0, 4.0),
        Param("motions", "choice", "all", "which motions the main objects make: all eight, or only moves, turns "
              "or scales (motion_labels keep their indices among the eight)", choices=tuple(MOTION_SETS)),
        Param("num_objects", "int", 1, "shapes per clip; the labels are those of the one drawn on top", 1, 4),
        Param("train_size", "int", 2000, "clips in the train split (also the unlabeled split)", 8, 100000),
        Param("test_size", "int", 500, "clips in the labeled test split", 8, 20000),
        Param("num_classes", "int", len(SHAPES), "how many shape classes to use", 2, len(SHAPES)),
        Param("background", "choice", "textured", "textured: stripes, checks or clouds; plain: one colour",
              choices=("textured", "plain")),
        Param("seed", "int", 0, "generator seed", 0, 2**31 - 1),
    ]

    def _size(self, name: str) -> int:
        return self.params["test_size"] if name == "test" else self.params["train_size"]

    def _stream(self, name: str) -> int:
        return 1 if name == "test" else 0  # unlabeled and train hold the same clips, as in shapes

    def _labels(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(n,) shape labels and (n,) motion labels of split ``name``, balanced and shuffled."""
        p, n = self.params, self._size(name)
        rng = np.random.default_rng([p["seed"], self._stream(name)])
        shape = np.arange(n) % p["num_classes"]
        pool = np.array([MOTIONS.index(m) for m in MOTION_SETS[p.get("motions", "all")]])
        motion = pool[(np.arange(n) // p["num_classes"] + np.arange(n)) % len(pool)]
        order = rng.permutation(n)
        return shape[order].astype(np.int64), motion[order].astype(np.int64)

    def extra_labels(self, name):
        return {"motion_labels": self._labels(name)[1]}

    def split_spec(self, name):
        p = self.params
        return SplitSpec(self._size(name), (p["frames"], p["image_size"], p["image_size"], 3),
                         tuple(SHAPES[: p["num_classes"]]), labeled=name != "unlabeled")

    def clip(self, name: str, i: int, shape: int, motion: int) -> np.ndarray:
        """Clip ``i`` of split ``name``: (frames, S, S, 3) uint8, from its own generator."""
        p = self.params
        rng = np.random.default_rng([p["seed"], self._stream(name), 1, i])
        return render_clip(shape, motion, rng, p["image_size"], p["frames"], p["fps"], p["speed"],
                           p["num_objects"], p["background"])

    def iter_split(self, name, start=0):
        shape, motion = self._labels(name)
        step = chunk_length(self.split_spec(name).sample_shape)
        for i in range(start, len(shape), step):
            j = min(i + step, len(shape))
            clips = np.stack([self.clip(name, k, int(shape[k]), int(motion[k])) for k in range(i, j)])
            yield Chunk(clips, None if name == "unlabeled" else shape[i:j])
