"""New run's data preview for data with sound: a clip+audio dataset shows clips' frames
over their log-mel spectrograms (computed by the engine as numpy arrays), a sound_folder its
spectrograms alone with the sounds' length and rate in the header; each sound plays where the
platform has an audio output."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.widgets import sound_player
from app.widgets.data_preview import SOUNDS, DataPreview
from engine.data.preview import data_preview
from tests.plugins.sound_files import sound_folder

SHAPES = {"train_size": 24, "test_size": 12, "image_size": 16, "frames": 8, "sample_rate": 8000, "num_classes": 2}


def test_the_engine_gives_spectrograms_beside_the_clips(home, plugins):
    sample = data_preview(home, "sounding_shapes", SHAPES, 5)
    assert sample.clips.shape == (5, 8, 16, 16, 3)
    assert sample.spectrograms.shape[:2] == (5, 64) and sample.spectrograms.dtype == np.float32
    assert 0.0 <= sample.spectrograms.min() and sample.spectrograms.max() == 1.0
    plain = data_preview(home, "shapes", {"train_size": 16, "test_size": 12, "image_size": 16}, 4)
    assert plain.spectrograms is None


def test_the_preview_draws_frames_over_spectrograms(qtbot, home, plugins):
    preview = DataPreview(home)
    qtbot.addWidget(preview)
    preview.show()
    preview.request("sounding_shapes", SHAPES)
    qtbot.waitUntil(lambda: preview.last is not None, timeout=60000)
    assert preview.sound_count() == SOUNDS and len(preview.grid.cells) == 24
    strip = preview.sounds.layout().itemAt(0).widget()
    assert not strip.spectrogram.pixmap().isNull() and strip.spectrogram.pixmap().width() >= 8 * 12


def test_a_sound_folder_previews_as_spectrograms(qtbot, home, plugins, tmp_path):
    root = sound_folder(tmp_path / "sounds", per_class=4, seconds=0.5, rate=8000)
    preview = DataPreview(home)
    qtbot.addWidget(preview)
    preview.show()
    preview.request("sound_folder", {"root": str(root), "sample_rate": 8000, "seconds": 0.5})
    qtbot.waitUntil(lambda: preview.last is not None, timeout=60000)
    assert preview.last.images is None and preview.sound_count() == SOUNDS
    assert "sounds of 0.5 s at 8,000 Hz" in preview.header.text() and not preview.grid.cells
    preview.request("shapes", {"train_size": 16, "test_size": 12, "image_size": 16})
    qtbot.waitUntil(lambda: preview.last is not None and preview.last.spectrograms is None, timeout=60000)
    assert preview.sound_count() == 0


def test_without_an_audio_output_play_is_disabled_and_says_why(qtbot, home, plugins):
    """This machine (offscreen, no sound card) has no audio output: the button says so."""
    preview = DataPreview(home)
    qtbot.addWidget(preview)
    preview.request("sounding_shapes", SHAPES)
    qtbot.waitUntil(lambda: preview.last is not None, timeout=60000)
    strip = preview.sounds.layout().itemAt(0).widget()
    reason = sound_player.unavailable_reason()
    if not reason:
        pytest.skip("this machine has an audio output")
    assert not strip.play_button.isEnabled() and strip.play_button.toolTip() == reason
    assert reason.endswith(".") and strip.play() is False


class FakeSink:
    started = []

    def __init__(self, device, fmt, parent=None):
        self.fmt, self.stateChanged = fmt, _Signal()

    def start(self, buffer):
        FakeSink.started.append((self.fmt.sampleRate(), self.fmt.channelCount(), self.fmt.sampleFormat(),
                                 bytes(buffer.data())))

    def stop(self):
        pass

    def deleteLater(self):
        pass


class _Signal:
    def connect(self, slot):
        pass


class FakeOutput:
    def isNull(self):
        return False


def test_play_hands_the_clip_s_own_samples_to_the_audio_output(qtbot, home, plugins, monkeypatch):
    """Where there is an output, Play gives Qt's audio sink the clip's waveform as 16-bit mono
    PCM at the data's sample rate."""
    monkeypatch.setattr(sound_player, "QAudioSink", FakeSink)
    monkeypatch.setattr(sound_player.QMediaDevices, "defaultAudioOutput", staticmethod(lambda: FakeOutput()))
    FakeSink.started.clear()
    preview = DataPreview(home)
    qtbot.addWidget(preview)
    preview.request("sounding_shapes", SHAPES)
    qtbot.waitUntil(lambda: preview.last is not None, timeout=60000)
    strip = preview.sounds.layout().itemAt(1).widget()
    assert strip.play_button.isEnabled()
    qtbot.mouseClick(strip.play_button, Qt.LeftButton)
    rate, channels, fmt, pcm = FakeSink.started[-1]
    assert (rate, channels, fmt) == (8000, 1, sound_player.QAudioFormat.SampleFormat.Int16)
    assert np.array_equal(np.frombuffer(pcm, "<i2"), preview.last.sounds[1]) and preview.last.sounds[1].any()
