"""A grid of small images with captions (data and augmentation previews)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from app.widgets.image_convert import to_pixmap


class ImageGrid(QWidget):
    def __init__(self, side: int = 72, parent=None):
        super().__init__(parent)
        self.side = side
        self.grid = QGridLayout(self)
        self.grid.setSpacing(4)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.cells: list[QWidget] = []

    def in_scroll_area(self) -> QScrollArea:
        """This grid at the top of a scroll area (the space below it stays empty)."""
        holder = QWidget()
        inner = QVBoxLayout(holder)
        inner.addWidget(self)
        inner.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(holder)
        return scroll

    def clear(self) -> None:
        for cell in self.cells:
            self.grid.removeWidget(cell)
            cell.hide()  # deleted later: until then it must not show under the new cells
            cell.deleteLater()
        self.cells = []

    def add(self, row: int, col: int, image, caption: str = "") -> None:
        """image: (H, W, 3) uint8 or float in [0, 1]."""
        cell = QWidget()
        box = QVBoxLayout(cell)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(1)
        picture = QLabel()
        picture.setPixmap(to_pixmap(image, self.side))
        picture.setFixedSize(self.side, self.side)
        box.addWidget(picture)
        if caption:
            text = QLabel(caption)
            text.setProperty("role", "muted")
            text.setAlignment(Qt.AlignHCenter)
            text.setMaximumWidth(self.side)
            box.addWidget(text)
        self.grid.addWidget(cell, row, col, Qt.AlignTop)
        self.cells.append(cell)

    def add_text(self, row: int, col: int, text: str) -> None:
        label = QLabel(text)
        label.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.grid.addWidget(label, row, col)
        self.cells.append(label)
