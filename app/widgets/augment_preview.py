"""Augmentation preview: 8 samples as they are, and what the method's ``input_preview``
makes of them, i.e. exactly the inputs the network sees (views, rotations, tiles...).

Rebuilt off the main thread whenever the method's parameters change (debounced by the
caller); "Re-roll" draws new augmentation parameters. A plugin error is shown in place."""
from __future__ import annotations

import random
from pathlib import Path

from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.jobs.background_job import LatestJob
from app.theme import restyle
from app.widgets.buttons import push_button
from app.widgets.image_grid import ImageGrid
from engine.ssl.input_preview import augmentation_preview

SAMPLES = 8


class AugmentPreview(QWidget):
    def __init__(self, home: Path, parent=None):
        super().__init__(parent)
        self.home = Path(home)
        self.seed = 0
        self.config: dict | None = None
        self.status = QLabel("Pick a method to see its inputs.")
        self.status.setWordWrap(True)
        self.reroll = push_button("Re-roll", "reroll", self._reroll,
                                  "draw new augmentation parameters for the same images")
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.reroll)
        self.grid = ImageGrid(64)
        scroll = self.grid.in_scroll_area()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        self.job = LatestJob(self)
        self.job.done.connect(self._show)
        self.job.error.connect(self._failed)
        self.last: dict | None = None
        self.last_error = ""

    def request(self, config: dict) -> None:
        self.config = config
        self.status.setText(f"Building the inputs of {config['method']['id']}…")
        self._set_role("")
        home, seed = self.home, self.seed
        self.job.submit(lambda: augmentation_preview(home, config, SAMPLES, seed))

    def _reroll(self):
        self.seed = random.randrange(2**31)
        if self.config is not None:
            self.request(self.config)

    def _show(self, views: dict) -> None:
        self.last, self.last_error = views, ""
        self.grid.clear()
        names = list(views)
        self.status.setText(f"What {self.config['method']['id']} feeds the network: "
                            f"{', '.join(names)} (one row each, {SAMPLES} images)")
        for row, name in enumerate(names):
            self.grid.add_text(row, 0, name)
            for col, image in enumerate(views[name]):
                self.grid.add(row, col + 1, image)

    def show_error(self, message: str) -> None:
        """No inputs to show (the configuration is invalid): the old images go, the reason shows."""
        self.job.drop()
        self.config = None
        self._failed(message)
        self.status.setText(f"No inputs to show: {message}")

    def _failed(self, message: str) -> None:
        self.last, self.last_error = None, message
        self.grid.clear()
        self.status.setText(f"The method could not build its inputs: {message}")
        self._set_role("error")

    def _set_role(self, role: str) -> None:
        restyle(self.status, "role", role)
