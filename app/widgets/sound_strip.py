"""A clip with its sound, as the data preview shows data that has some: the clip's frames in
a row and, under them and over the same seconds, its log-mel spectrogram (low pitches at the
bottom, colour-ramped loudness). A sounds-only sample shows the spectrogram alone. The
spectrogram comes computed from the engine (engine.data.sound_preview); this only draws."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.widgets.colour_ramp import ramp_absolute
from app.widgets.image_convert import to_pixmap

FRAME = 40
SPEC_HEIGHT = 56


def spectrogram_pixmap(spec: np.ndarray, width: int, height: int = SPEC_HEIGHT) -> QPixmap:
    """spec: (mels, frames) in [0, 1], row 0 the highest band -> a ``width`` x ``height`` pixmap."""
    rgb = np.ascontiguousarray(ramp_absolute(spec))
    h, w, _ = rgb.shape
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(width, height, Qt.IgnoreAspectRatio, Qt.SmoothTransformation)


class SoundStrip(QWidget):
    """One sample: ``frames`` (T, H, W, 3) uint8 or None, ``spec`` (mels, frames) in [0, 1]."""

    def __init__(self, frames: np.ndarray | None, spec: np.ndarray, caption: str = "", parent=None):
        super().__init__(parent)
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
        if caption:
            text = QLabel(caption)
            text.setProperty("role", "muted")
            layout.addWidget(text)
