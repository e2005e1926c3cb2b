"""The tail of a run's ``log.txt``, read incrementally from the last offset."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QPlainTextEdit

MAX_LINES = 2000
FIRST_READ_BYTES = 64_000


class LogTail(QPlainTextEdit):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.setLineWrapMode(QPlainTextEdit.NoWrap)
        self.path: Path | None = None
        self.offset = 0

    def follow(self, path: Path | None) -> None:
        self.clear()
        self.path, self.offset = path, 0
        if path is not None and path.exists():
            self.offset = max(0, path.stat().st_size - FIRST_READ_BYTES)  # skip the start of a long log
        self.refresh()

    def refresh(self) -> None:
        if self.path is None or not self.path.exists():
            return
        size = self.path.stat().st_size
        if size < self.offset:  # the file was replaced
            self.offset = 0
        if size == self.offset:
            return
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            data = f.read()
        cut = data.rfind(b"\n") + 1  # only whole lines; the rest comes next time
        if cut == 0:
            return
        self.offset += cut
        at_bottom = self.verticalScrollBar().value() >= self.verticalScrollBar().maximum() - 2
        self.moveCursor(QTextCursor.End)
        self.insertPlainText(data[:cut].decode("utf-8", errors="replace"))
        if at_bottom:
            self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())
