"""A clip with its sound, as the data preview shows data that has some: the clip's frames in
a row and, under them and over the same seconds, its log-mel spectrogram (low pitches at the
bottom, colour-ramped loudness), and a Play button for the sound where the platform can play
it (app.widgets.sound_player). A sounds-only sample shows the spectrogram alone. The
spectrogram comes computed from the engine (engine.data.sound_preview); this only draws."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.widgets.colour_ramp import ramp_absolute
from app.widgets.image_convert import to_pixmap
from app.widgets.sound_player import SoundPlayer, unavailable_reason

FRAME = 40
SPEC_HEIGHT = 56


def spectrogram_pixmap(spec: np.ndarray, width: int, height: int = SPEC_HEIGHT) -> QPixmap:
    """spec: (mels, frames) in [0, 1], row 0 the highest band -> a ``width`` x ``height`` pixmap."""
    rgb = np.ascontiguousarray(ramp_absolute(spec))
    h, w, _ = rgb.shape
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(width, height, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)


class SoundStrip(QWidget):
    """One sample: ``frames`` (T, H, W, 3) uint8 or None, ``spec`` (mels, frames) in [0, 1];
    ``wave`` (L,) int16 at ``sample_rate`` Hz, played by ``player`` (shared by the strips of a
    preview, so one sound plays at a time)."""

    def __init__(self, frames: np.ndarray | None, spec: np.ndarray, caption: str = "", wave: np.ndarray | None = None,
                 sample_rate: int | None = None, player: SoundPlayer | None = None, parent=None):
        super().__init__(parent)
        self.wave, self.sample_rate, self.player = wave, sample_rate, player
        self.setObjectName("sound_strip")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 4)
        layout.setSpacing(1)
        width = 8 * FRAME
        if frames is not None:
            row = QHBoxLayout()
            row.setSpacing(0)
            side = max(12, min(FRAME, width // max(1, len(frames))))
            for frame in frames:
                cell = QLabel()
                cell.setPixmap(to_pixmap(frame, side))
                row.addWidget(cell)
            row.addStretch(1)
            layout.addLayout(row)
            width = side * len(frames)
        self.spectrogram = QLabel()
        self.spectrogram.setObjectName("spectrogram")
        self.spectrogram.setPixmap(spectrogram_pixmap(spec, width))
        self.spectrogram.setToolTip("log-mel spectrogram over the clip's seconds (low pitches at the bottom)")
        layout.addWidget(self.spectrogram)
        under = QHBoxLayout()
        under.setSpacing(6)
        self.play_button = QToolButton()
        self.play_button.setObjectName("play_sound")
        self.play_button.setText("▶ Play")
        reason = unavailable_reason() if wave is not None and player is not None else "No sound to play."
        self.play_button.setEnabled(not reason)
        self.play_button.setToolTip(reason or "Play this sound")
        self.play_button.clicked.connect(self.play)
        under.addWidget(self.play_button)
        if caption:
            text = QLabel(caption)
            text.setProperty("role", "muted")
            under.addWidget(text)
        under.addStretch(1)
        layout.addLayout(under)

    def play(self) -> bool:
        return self.player.play(self.wave, self.sample_rate)
