"""numpy images -> Qt pixmaps for the previews."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap


def to_pixmap(image: np.ndarray, side: int = 72) -> QPixmap:
    """image: (H, W, 3) uint8, or (H, W, 3) float in [0, 1]; scaled to ``side`` pixels
    without smoothing, so a 16-pixel image shows its real pixels."""
    if image.dtype != np.uint8:
        image = (np.clip(image, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    image = np.ascontiguousarray(image)
    h, w, _ = image.shape
    qimage = QImage(image.data, w, h, 3 * w, QImage.Format_RGB888).copy()  # copy: own the bytes
    return QPixmap.fromImage(qimage).scaled(side, side, Qt.KeepAspectRatio, Qt.FastTransformation)

