"""Data preview: sample images with their labels, the dataset's size and classes; for data
with sound, a few clips' frames above their log-mel spectrograms (app.widgets.sound_strip).

Building a dataset can take seconds (shapes is generated on first use), so it runs on the
thread pool; the view shows "building…" meanwhile and the error in place if it fails."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.jobs.background_job import LatestJob
from app.theme import restyle
from app.widgets.image_grid import ImageGrid
from app.widgets.sound_player import SoundPlayer
from app.widgets.sound_strip import SoundStrip
from engine.data.preview import data_preview

COLUMNS = 8
SOUNDS = 3  # clips shown with their spectrograms


class DataPreview(QWidget):
    caching = Signal(int, int, str)  # done, total, note: emitted from the job's thread, shown here

    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.header = QLabel("Pick a dataset to see samples.")
        self.header.setWordWrap(True)
        self.classes = QLabel()
        self.classes.setWordWrap(True)
        self.classes.setProperty("role", "muted")
        self.grid = ImageGrid(64)
        scroll = self.grid.in_scroll_area()
        self.sounds = QWidget()
        self.sounds.setObjectName("sound_previews")
        QVBoxLayout(self.sounds).setContentsMargins(0, 0, 0, 0)
        self.sounds.hide()
        self.player = SoundPlayer(self)  # one sound at a time across the strips
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.classes)
        layout.addWidget(self.sounds)
        layout.addWidget(scroll, 1)
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.job.error.connect(self._failed)
        self.caching.connect(self._caching)
        self.last = None  # engine.data.preview.DataSample

    def request(self, data_id: str, params: dict) -> None:
        self.header.setText(f"Building {data_id}… (first use generates or decodes the data)")
        restyle(self.header, "role", "")
        home = self.home
        report = self.caching.emit
        self.job.submit(lambda: data_preview(home, data_id, params, 3 * COLUMNS, report))  # three rows

    def _caching(self, done: int, total: int, note: str) -> None:
        if self.job.running:
            self.header.setText(f"{note[:1].upper()}{note[1:]}: {done:,} of {total:,} images decoded")

    def _show(self, result) -> None:
        self.last = result
        info = result.info
        sizes = ", ".join(f"{n:,} {name}" for name, n in info["splits"].items())
        classes = info.get("classes", [])
        if result.images is None:
            seconds = info.get("audio_samples", 0) / max(1, info.get("sample_rate", 1))
            text = f"{sizes} sounds of {seconds:g} s at {info.get('sample_rate', 0):,} Hz"
        else:
            text = f"{sizes} images of {info['image_size']} px"
        if result.skipped:
            text += f" ({result.skipped} unreadable files skipped)"
        self.header.setText(text + f" — samples from the {result.split} split")
        self.classes.setText(f"{len(classes)} classes: " + ", ".join(classes) if classes else "unlabeled")
        self.grid.clear()
        for i, (image, label) in enumerate(zip(result.images if result.images is not None else [], result.labels)):
            self.grid.add(i // COLUMNS, i % COLUMNS, image, label)
        self._show_sounds(result)

    def _show_sounds(self, result) -> None:
        """The first clips' frames over their spectrograms (hidden for data without sound)."""
        self.player.stop()
        layout = self.sounds.layout()
        while layout.count():
            item = layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        specs = result.spectrograms
        self.sounds.setVisible(specs is not None and len(specs) > 0)
        if specs is None:
            return
        for i, spec in enumerate(specs[:SOUNDS]):
            frames = result.clips[i] if result.clips is not None else None
            layout.addWidget(SoundStrip(frames, spec, result.labels[i], result.sounds[i], result.sample_rate,
                                        self.player))

    def sound_count(self) -> int:
        return self.sounds.layout().count() if self.sounds.isVisible() else 0

    def show_error(self, message: str) -> None:
        """No samples (the dataset's settings are invalid): the old images go, the reason shows."""
        self.job.drop()
        self._failed(message)

    def _failed(self, message: str) -> None:
        self.last = None
        self.grid.clear()
        self.sounds.hide()
        self.header.setText(f"Cannot load this dataset: {message}")
        restyle(self.header, "role", "error")
        self.classes.setText("")
