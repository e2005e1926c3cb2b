"""``video_folder``: a UCF-101-style folder of videos on this machine, read with PyAV.

``root/<class>/<video>`` is labeled by the sub-folder name. A video is a file (mp4, avi,
mkv, webm, mov, m4v) or a folder of frame images (sorted by name, played at ``source_fps``).
Each video gives ``clips_per_video`` clips of ``frames`` frames sampled at ``fps``, spread
evenly over its length (a video shorter than a clip repeats its last frame); frames are
centre-cropped to a square of ``image_size``. Train and test are a stratified hold-out of
the videos, and ``unlabeled`` (what methods pre-train on) is the train videos, so no test
video is ever pre-trained on. Unreadable, corrupt or zero-length videos are skipped and
counted (``Split.skipped`` counts their clips), never a traceback.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from engine.api import (
    EXTENSIONS,
    ClassFolderSource,
    Param,
    SampleKind,
    hold_out_params,
    register_dataset,
)

VIDEO_EXTENSIONS = (".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v")


@dataclass(frozen=True)
class ClipPlan:
    """What to take from every video: ``clips`` clips of ``frames`` frames at ``fps``."""

    frames: int
    fps: float
    clips: int
    size: int

    def times(self, duration: float) -> np.ndarray:
        """(clips, frames) times in seconds, the clips spread evenly over ``duration``."""
        span = self.frames / self.fps
        room = max(0.0, duration - span)
        starts = room * (np.arange(self.clips) + 0.5) / self.clips if self.clips > 1 else np.array([room / 2])
        return starts[:, None] + np.arange(self.frames) / self.fps


def square(img: Image.Image, size: int) -> np.ndarray:
    """A PIL image -> (size, size, 3) uint8, centre-cropped to a square and resized."""
    w, h = img.size
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    return np.asarray(img.convert("RGB").crop(box).resize((size, size), Image.BILINEAR))


def _frames_at(decoded, targets: np.ndarray, size: int) -> np.ndarray | None:
    """The frame showing at each target time: the last one at or before it (the first for
    times before it, the last after the end). decoded: (time, PIL-convertible frame) in
    order; targets: any shape. -> (*targets.shape, S, S, 3), None without frames. Only the
    frames some target shows are converted; the others are dropped as they pass."""
    flat = targets.ravel()
    order = np.argsort(flat, kind="stable")
    out: list = [None] * len(flat)
    k, prev = 0, None
    for t, frame in decoded:
        while k < len(order) and flat[order[k]] < t - 1e-6:  # a frame at the target time (within 1 us) shows
            out[order[k]] = prev if prev is not None else frame
            k += 1
        prev = frame
    if prev is None:
        return None
    while k < len(order):
        out[order[k]] = prev
        k += 1
    converted = {id(f): square(f.to_image(), size) for f in out}
    return np.stack([converted[id(f)] for f in out]).reshape(*targets.shape, size, size, 3)


def read_video_file(path: str, plan: ClipPlan) -> np.ndarray | None:
    """(clips, frames, S, S, 3) uint8 from a video file, or None when it cannot be decoded or
    has no frames (corrupt, truncated before its first frame, zero-length)."""
    import av

    try:
        with av.open(path) as container:
            stream = container.streams.video[0]
            duration = float(stream.duration * stream.time_base) if stream.duration else None
            if duration is None and container.duration:
                duration = container.duration / 1e6
            rate = float(stream.average_rate or 25)
            decoded = ((float(f.time) if f.time is not None else i / rate, f)
                       for i, f in enumerate(container.decode(stream)))
            if duration:
                return _frames_at(decoded, plan.times(duration), plan.size)
            everything = list(decoded)  # no duration in the header: read it all, then sample
            if not everything:
                return None
            return _frames_at(iter(everything), plan.times(everything[-1][0] + 1 / rate), plan.size)
    except (av.error.FFmpegError, OSError, ValueError, IndexError):  # broken, truncated or empty
        return None


def read_frame_folder(folder: str, plan: ClipPlan, source_fps: float) -> np.ndarray | None:
    """(clips, frames, S, S, 3) uint8 from a folder of frame images played at ``source_fps``,
    or None when none of the needed frames can be read."""
    names = sorted(n for n in os.listdir(folder) if not n.startswith(".") and n.lower().endswith(EXTENSIONS))
    if not names:
        return None
    index = np.minimum((plan.times(len(names) / source_fps) * source_fps).astype(int), len(names) - 1)
    decoded = {}
    try:
        for i in np.unique(index):
            with Image.open(os.path.join(folder, names[i])) as img:
                decoded[i] = square(img, plan.size)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None
    return np.stack([decoded[i] for i in index.ravel()]).reshape(*index.shape, plan.size, plan.size, 3)


def _is_video(entry: os.DirEntry) -> bool:
    if entry.name.startswith("."):
        return False
    if entry.is_dir():
        return any(n.lower().endswith(EXTENSIONS) for n in os.listdir(entry.path))
    return entry.name.lower().endswith(VIDEO_EXTENSIONS)


VIDEOS_DESCRIBED = f"videos ({', '.join(VIDEO_EXTENSIONS)} files or folders of frame images)"


def videos_in(class_dir: Path) -> list[str]:
    return sorted(e.path for e in os.scandir(class_dir) if _is_video(e))


@register_dataset
class VideoFolder(ClassFolderSource):
    id = "video_folder"
    title = "Video folder (UCF-101 style)"
    summary = ("Any folder of videos on this computer, one sub-folder per class (as UCF-101 and HMDB-51 are "
               "laid out): mp4, avi, mkv, webm or mov files, or folders of frame images. Clips of a set number "
               "of frames are sampled at a set frame rate, centre-cropped; unreadable videos are skipped and "
               "counted. The test videos are held out of pre-training.")
    citation = "Soomro, Zamir & Shah, 2012 (UCF101 layout); decoding by PyAV (FFmpeg)"
    sample_kind = SampleKind.CLIP
    noun, described = "videos", VIDEOS_DESCRIBED
    params = [
        Param("root", "dir", None, "folder with one sub-folder of videos per class"),
        Param("image_size", "int", 64, "side of the square frames in pixels (centre crop, then resize)", 8, 512),
        Param("frames", "int", 8, "frames per clip", 1, 256),
        Param("fps", "float", 8.0, "frames per second the clips are sampled at", 0.1, 240.0),
        Param("clips_per_video", "int", 1, "clips per video, spread evenly over its length", 1, 64),
        Param("source_fps", "float", 25.0, "frame rate of folders of frame images", 0.1, 240.0),
        *hold_out_params('videos'),
    ]

    items_in = staticmethod(videos_in)

    @property
    def plan(self) -> ClipPlan:
        p = self.params
        return ClipPlan(p["frames"], p["fps"], p["clips_per_video"], p["image_size"])

    def read(self, video: str) -> np.ndarray | None:
        """(clips, frames, S, S, 3) uint8 of one video, None when it cannot be read."""
        if os.path.isdir(video):
            return read_frame_folder(video, self.plan, self.params["source_fps"])
        return read_video_file(video, self.plan)

    def record_shape(self):
        p = self.params
        return (p["frames"], p["image_size"], p["image_size"], 3)

    def records_per_item(self):
        return self.params["clips_per_video"]
