"""``sound_folder``: an ESC-50 / UrbanSound8K-style folder of labeled sounds, ``root/<class>/*.wav``
(or .flac), for the audio tower's transfer protocol: Arandjelovic & Zisserman (2017) probed
L3-Net's audio features on ESC-50 (Piczak, 2015), 5 s clips in 50 classes.

Every file is read mono (WAV by the standard library, FLAC by PyAV), resampled to
``sample_rate`` and cut to ``seconds``: a longer sound is centre-cropped (or cut from its
start), a shorter one padded with silence. A sample is an ``audio`` record, the (L,) int16
waveform, L = seconds x sample_rate. Train and test are a stratified hold-out of the files
(as video_folder holds out videos); unreadable files are skipped and counted
(``Split.skipped``), a folder without readable sound is refused in one sentence. No method
pre-trains on it: the audio probe (``eval --protocol audio_probe --data sound_folder``)
reads it with an audio-visual run's audio tower.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.api import (
    ClassFolderSource,
    Param,
    SampleKind,
    hold_out_params,
    read_sound,
    register_dataset,
    sound_windows,
)

SOUND_EXTENSIONS = (".wav", ".flac")


def is_sound(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(SOUND_EXTENSIONS)


def sounds_in(class_dir: Path) -> list[str]:
    return sorted(str(p) for p in class_dir.rglob("*") if p.is_file() and is_sound(p.name))


def fixed_length(x: np.ndarray, sample_rate: int, seconds: float, crop: str) -> np.ndarray:
    """(L0,) float sound -> (round(seconds x rate),) int16: centre-cropped or cut from the
    start when longer, padded with silence at the end when shorter."""
    n = round(seconds * sample_rate)
    start = max(0, len(x) - n) // 2 if crop == "centre" else 0
    return sound_windows(x, sample_rate, np.array([start / sample_rate]), seconds)[0]


@register_dataset
class SoundFolder(ClassFolderSource):
    id = "sound_folder"
    title = "Sound folder (ESC-50 style)"
    summary = ("Any folder of WAV or FLAC sounds on this computer, one sub-folder per class (as ESC-50 and "
               "UrbanSound8K can be laid out): mono, resampled to a set rate, centre-cropped or padded with "
               "silence to a set length. Unreadable files are skipped and counted. For the audio probe of "
               "audio-visual runs (their audio tower's transfer); no method pre-trains on sounds alone.")
    citation = "Piczak, 2015 (ESC-50); Arandjelovic & Zisserman, 2017 (L3-Net's audio transfer protocol)"
    sample_kind = SampleKind.AUDIO
    noun, described = "sound files", f"sound files ({', '.join(SOUND_EXTENSIONS)})"
    params = [
        Param("root", "dir", None, "folder with one sub-folder of .wav / .flac files per class"),
        Param("sample_rate", "int", 16000, "audio samples per second (files are resampled to it)", 4000, 48000),
        Param("seconds", "float", 5.0, "length of every sound in seconds (ESC-50: 5)", 0.1, 60.0),
        Param("crop", "choice", "centre", "where a longer sound is cut: its centre or its start",
              choices=("centre", "start")),
        *hold_out_params('sound files'),
    ]

    items_in = staticmethod(sounds_in)

    @property
    def samples(self) -> int:
        """L, the length of every waveform."""
        return round(self.params["seconds"] * self.params["sample_rate"])

    record_dtype = np.int16

    def record_shape(self):
        return (self.samples,)

    def read_records(self, path):
        sound = self.read(path)
        return None if sound is None else (sound[None], None)

    def audio_samples(self):
        return self.samples

    def read(self, path: str) -> np.ndarray | None:
        """(L,) int16 of one file, None when it cannot be read or holds no sound."""
        x = read_sound(path, self.params["sample_rate"]) if os.path.getsize(path) else None
        if x is None or not len(x):
            return None
        return fixed_length(x, self.params["sample_rate"], self.params["seconds"], self.params["crop"])
