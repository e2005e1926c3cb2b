"""A perceptually ordered colour ramp (viridis' blue -> green -> yellow) for drawing scalar
images: sound localisation maps and spectrograms. Rendering only: values in, colours out."""
from __future__ import annotations

import numpy as np

_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], np.float32)


def ramp(values: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    """values: (h, w) any float -> (h, w, 4) uint8 RGBA, the map's min..max spread over the
    ramp, opacity ``alpha``."""
    v = values.astype(np.float32)
    span = float(v.max() - v.min()) if v.size else 0.0
    t = (v - v.min()) / span if span > 1e-12 else np.zeros_like(v)
    pos = t * (len(_STOPS) - 1)
    lo = np.clip(pos.astype(int), 0, len(_STOPS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _STOPS[lo] * (1 - frac) + _STOPS[lo + 1] * frac
    a = np.full((*v.shape, 1), 255 * alpha, np.float32)
    return np.concatenate([rgb, a], axis=-1).round().astype(np.uint8)


def ramp_absolute(values: np.ndarray) -> np.ndarray:
    """values: (h, w) in [0, 1] -> (h, w, 3) uint8 RGB, 0 and 1 at the ramp's ends (no rescaling)."""
    pos = np.clip(values.astype(np.float32), 0.0, 1.0) * (len(_STOPS) - 1)
    lo = np.clip(pos.astype(int), 0, len(_STOPS) - 2)
    frac = (pos - lo)[..., None]
    return (_STOPS[lo] * (1 - frac) + _STOPS[lo + 1] * frac).round().astype(np.uint8)
