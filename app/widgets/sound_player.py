"""Playing a preview's sound through the platform's audio output (Qt Multimedia's QAudioSink,
16-bit mono PCM from memory). Where Qt Multimedia is missing (the PySide6-Addons wheel, or the
PulseAudio client library it loads) or the platform has no audio output, nothing plays and
``unavailable_reason()`` says why in one sentence for the button's tooltip."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject

try:
    from PySide6.QtMultimedia import QAudio, QAudioFormat, QAudioSink, QMediaDevices
except ImportError as e:  # no PySide6-Addons, or libpulse.so.0 missing
    QAudioSink = None
    _IMPORT_ERROR = str(e)
else:
    _IMPORT_ERROR = ""


def unavailable_reason() -> str:
    """"" when a sound can play here, else why not (one sentence)."""
    if QAudioSink is None:
        return f"Sound playback needs Qt Multimedia (pip install PySide6-Addons; on Linux also libpulse0): {_IMPORT_ERROR}."
    if QMediaDevices.defaultAudioOutput().isNull():
        return "No audio output device was found, so the sound cannot be played."
    return ""


def pcm_format(sample_rate: int):
    """The QAudioFormat of (L,) int16 mono samples at ``sample_rate`` Hz."""
    fmt = QAudioFormat()
    fmt.setSampleRate(int(sample_rate))
    fmt.setChannelCount(1)
    fmt.setSampleFormat(QAudioFormat.SampleFormat.Int16)
    return fmt


class SoundPlayer(QObject):
    """Plays one waveform at a time; a new ``play`` stops the one before."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.sink = None
        self.buffer = None

    def play(self, wave: np.ndarray, sample_rate: int) -> bool:
        """wave: (L,) int16 mono. Whether it started (False where ``unavailable_reason()``)."""
        if unavailable_reason():
            return False
        self.stop()
        self.buffer = QBuffer(self)
        self.buffer.setData(QByteArray(np.ascontiguousarray(wave, dtype="<i2").tobytes()))
        self.buffer.open(QIODevice.ReadOnly)
        self.sink = QAudioSink(QMediaDevices.defaultAudioOutput(), pcm_format(sample_rate), self)
        self.sink.stateChanged.connect(self._state_changed)
        self.sink.start(self.buffer)
        return True

    def _state_changed(self, state) -> None:
        if state == QAudio.State.IdleState:  # played to the end
            self.stop()

    def stop(self) -> None:
        if self.sink is not None:
            self.sink.stop()
            self.sink.deleteLater()
            self.sink = None
        if self.buffer is not None:
            self.buffer.close()
            self.buffer.deleteLater()
            self.buffer = None
