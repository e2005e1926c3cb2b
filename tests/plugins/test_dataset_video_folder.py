"""The UCF-101-style video folder: videos written here with PyAV (mp4, avi, webm) and folders
of frame images are read into clips of the asked frames and rate; corrupt and zero-length
files are skipped and counted; test videos never reach pre-training."""
from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from engine import registry
from engine.data.dataset import DataError
from plugins.datasets.video_folder import ClipPlan, read_video_file

FPS = 10


def write_video(path, seconds: float = 1.0, size: int = 32, codec: str = "mpeg4", shade: int = 0):
    """A video whose frame i is uniformly grey at level 12 * i (+ shade), so its content tells
    which frame was read."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=FPS)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(int(seconds * FPS)):
            img = np.full((size, size, 3), min(255, 12 * i + shade), np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def write_frames(folder, count: int = 12, size: int = 24):
    folder.mkdir(parents=True)
    for i in range(count):
        Image.fromarray(np.full((size, size + 8, 3), 10 * i, np.uint8)).save(folder / f"{i:04d}.png")


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "videos"
    for c, cls in enumerate(("jump", "run")):
        d = r / cls
        d.mkdir(parents=True)
        write_video(d / "a.mp4", shade=c)
        write_video(d / "b.avi", seconds=1.5, shade=c)
        write_video(d / "c.webm", codec="libvpx", shade=c)
        write_frames(d / "d_frames")
    (r / "jump" / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    (r / "run" / "empty.mkv").write_bytes(b"")
    return r


def test_a_video_file_is_sampled_at_the_asked_rate(tmp_path):
    write_video(tmp_path / "v.mkv", seconds=2.0, codec="ffv1")  # lossless: grey levels exact
    clips = read_video_file(str(tmp_path / "v.mkv"), ClipPlan(frames=4, fps=5.0, clips=2, size=16))
    assert clips.shape == (2, 4, 16, 16, 3)
    source = np.round(clips[..., 0].mean(axis=(2, 3)) / 12)  # which source frame each one is
    # 2 s at 10 fps; clips of 0.8 s spread evenly: they start at 0.3 s and 0.9 s, every other frame
    assert source.tolist() == [[3, 5, 7, 9], [9, 11, 13, 15]]


def test_folder_splits_skip_broken_videos_and_count_them(root, tmp_path):
    ds = registry.create_dataset("video_folder", {"root": str(root), "image_size": 16, "frames": 4,
                                                  "fps": 5.0, "test_fraction": 0.34}, tmp_path / "cache")
    ds.check()
    splits = {name: ds.split(name) for name in ds.splits}
    assert all(s.images.shape[1:] == (4, 16, 16, 3) for s in splits.values())
    assert splits["train"].classes == ["jump", "run"]
    total = sum(len(s) + s.skipped for s in (splits["train"], splits["test"]))
    assert total == 10 and splits["train"].skipped + splits["test"].skipped == 2
    assert len(splits["unlabeled"]) == len(splits["train"]) and splits["unlabeled"].labels is None
    assert not set(ds.split_items("unlabeled")[0]) & set(ds.split_items("test")[0])


def test_an_empty_or_unreadable_folder_is_one_sentence(tmp_path):
    (tmp_path / "r" / "a").mkdir(parents=True)
    with pytest.raises(DataError, match="no class sub-folders of videos"):
        registry.create_dataset("video_folder", {"root": str(tmp_path / "r")}).check()
    for i in range(2):
        (tmp_path / "r" / "a" / f"{i}.mp4").write_bytes(b"not a video")
    with pytest.raises(DataError, match="none of the 2 videos"):
        registry.create_dataset("video_folder", {"root": str(tmp_path / "r")}).check()
