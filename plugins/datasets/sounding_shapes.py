"""``sounding_shapes``: the built-in clip+audio dataset, generated on first use and cached.

``moving_shapes`` clips with a soundtrack (``soundtrack``, same package): every shape class
has its own timbre, the main object hums in it, and each bounce off a border strikes a note
at the frame where it happens (distractor objects strike theirs at half loudness), over
background noise and distractor chirps. So what is seen and what is heard correspond (the
timbre names the shape) and are synchronised (onsets at bounces). Seeded and deterministic:
clip ``i`` of a split and its sound depend on (seed, split, i) only.
"""
from __future__ import annotations

import numpy as np

from engine.api import (
    Chunk,
    ClipAudioSplits,
    Param,
    SampleKind,
    chunk_length,
    register_dataset,
)
from plugins.datasets.moving_shapes import SHAPES, MovingShapes, render_clip
from plugins.datasets.soundtrack import STRIKE, Event, soundtrack


def _bounced(before: tuple[float, float], after: tuple[float, float]) -> bool:
    return any(a * b < 0 for a, b in zip(before, after))


def render_sounding_clip(shape: int, motion: int, rng: np.random.Generator, size: int, frames: int,
                         fps: float, speed: float, num_objects: int = 1, background: str = "textured"):
    """-> ((frames, size, size, 3) uint8 clip, [Event]): ``moving_shapes.render_clip``,
    with each border bounce (a velocity sign flip) recorded at the time of the frame
    after it."""
    events = []

    def record(t, m, before, main):
        if t + 1 < frames and _bounced(before, (m.vx, m.vy)):
            events.append(Event((t + 1) / fps, SHAPES.index(m.shape), STRIKE if main else STRIKE / 2))

    clip = render_clip(shape, motion, rng, size, frames, fps, speed, num_objects, background, on_move=record)
    return clip, events


@register_dataset
class SoundingShapes(ClipAudioSplits, MovingShapes):
    id = "sounding_shapes"
    title = "Sounding shapes (built-in clips with sound)"
    summary = ("Generated on this machine, nothing to download: moving_shapes clips with a soundtrack. Each "
               "shape class has its own timbre (pitch and harmonic spectrum); the main shape hums in it and "
               "every bounce off a border strikes a note at that frame, over background noise and chirps "
               "that belong to nothing on screen. Labels: shape (also the sound's class) and motion.")
    citation = ("Pretext built-in, for audio-visual correspondence (Arandjelovic & Zisserman, 2017) and "
                "synchronisation (Owens & Efros, 2018)")
    sample_kind = SampleKind.CLIP_AUDIO
    params = [
        *(p if p.name != "speed" else Param("speed", "float", 1.0, p.help, 0.0, 4.0) for p in MovingShapes.params),
        Param("sample_rate", "int", 16000, "audio samples per second; the sound lasts frames / fps seconds",
              4000, 48000),
        Param("noise", "float", 0.02, "standard deviation of the background noise (full scale 1)", 0.0, 0.5),
        Param("distractor_sounds", "int", 2, "at most this many chirps per clip that belong to nothing on screen",
              0, 8),
    ]

    def sounding_clip(self, name: str, i: int, shape: int, motion: int) -> tuple[np.ndarray, np.ndarray]:
        """Clip ``i`` of split ``name``: ((frames, S, S, 3) uint8, (L,) int16), from its own generator."""
        p = self.params
        rng = np.random.default_rng([p["seed"], self._stream(name), 1, i])
        clip, events = render_sounding_clip(shape, motion, rng, p["image_size"], p["frames"], p["fps"], p["speed"],
                                            p["num_objects"], p["background"])
        sound = soundtrack(shape, events, p["frames"] / p["fps"], p["sample_rate"],
                           np.random.default_rng([p["seed"], self._stream(name), 2, i]), p["noise"],
                           p["distractor_sounds"])
        return clip, sound

    def iter_split(self, name, start=0):
        shape, motion = self._labels(name)
        spec = self.split_spec(name)
        step = chunk_length((int(np.prod(spec.sample_shape)) + 2 * spec.audio_samples,))
        for i in range(start, len(shape), step):
            j = min(i + step, len(shape))
            pairs = [self.sounding_clip(name, k, int(shape[k]), int(motion[k])) for k in range(i, j)]
            yield Chunk(np.stack([c for c, _ in pairs]), None if name == "unlabeled" else shape[i:j],
                        audio=np.stack([s for _, s in pairs]))
