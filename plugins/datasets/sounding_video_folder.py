"""``sounding_video_folder``: ``video_folder``'s UCF-101-style folder of videos with their
soundtracks (clip+audio). Each clip's frames come as in ``video_folder``; its sound is the
first audio stream over the same frames / fps seconds, mono, resampled to ``sample_rate``
by FFmpeg (PyAV). A video without an audio stream, or whose frames or sound cannot be
decoded, is skipped and counted like an unreadable one; a folder where no video has sound
is refused in one sentence before training.
"""
from __future__ import annotations

import os

import numpy as np

from engine.api import (
    ClipAudioSplits,
    DataError,
    Param,
    SampleKind,
    read_sound,
    register_dataset,
    sound_windows,
)
from plugins.datasets.video_folder import VideoFolder


def video_duration(path: str) -> float | None:
    """Seconds of a video file from its header (video stream, else container), None if unknown."""
    import av

    try:
        with av.open(path) as c:
            s = c.streams.video[0] if c.streams.video else None
            if s is not None and s.duration:
                return float(s.duration * s.time_base)
            return c.duration / 1e6 if c.duration else None
    except (av.error.FFmpegError, OSError, ValueError, IndexError):
        return None


@register_dataset
class SoundingVideoFolder(ClipAudioSplits, VideoFolder):
    id = "sounding_video_folder"
    title = "Video folder with sound"
    summary = ("A folder of videos with soundtracks, one sub-folder per class (as UCF-101, VGGSound or "
               "AudioSet clips are laid out): each clip's frames and the sound over the same seconds, "
               "mono at a set sample rate. Videos without an audio stream, or that cannot be decoded, are "
               "skipped and counted. The test videos are held out of pre-training.")
    citation = "Soomro, Zamir & Shah, 2012 (UCF101 layout); decoding by PyAV (FFmpeg)"
    sample_kind = SampleKind.CLIP_AUDIO
    params = [
        *VideoFolder.params,
        Param("sample_rate", "int", 16000, "audio samples per second (resampled by FFmpeg)", 4000, 48000),
    ]

    def read_records(self, video: str) -> tuple[np.ndarray, np.ndarray] | None:
        """((clips, frames, S, S, 3) uint8, (clips, L) int16) of one video; None when it has no
        sound (a frame folder, no audio stream) or cannot be read."""
        if os.path.isdir(video):
            return None
        sound = read_sound(video, self.params["sample_rate"])
        clips = self.read(video) if sound is not None else None
        if clips is None:
            return None
        plan = self.plan
        duration = video_duration(video) or len(sound) / self.params["sample_rate"]
        starts = plan.times(duration)[:, 0]
        return clips, sound_windows(sound, self.params["sample_rate"], starts, plan.frames / plan.fps)

    def check(self):
        videos, _, _ = self.listing()
        if not any(self.read_records(v) is not None for v in videos):
            raise DataError(f"none of the {len(videos)} videos in root has a readable audio stream; "
                            "use video_folder for silent videos")
        super().check()
