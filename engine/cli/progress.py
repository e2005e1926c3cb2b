"""A terminal progress bar for training and evaluation (stderr; plain lines when not a TTY)."""
from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(0, seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    def __init__(self, stream=None, width: int = 24, accuracy_key: str = "contrastive_acc"):
        self.stream = stream or sys.stderr
        self.width, self.key = width, accuracy_key
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start = time.monotonic()
        self.first_step = None
        self.last_print = 0.0

    def update(self, step: int, total: int, epoch: float, metrics: dict) -> None:
        now = time.monotonic()
        if self.first_step is None:
            self.first_step, self.start = step - 1, now
        if step < total and now - self.last_print < (0.2 if self.tty else 5.0):
            return
        self.last_print = now
        done = step / max(total, 1)
        rate = (step - self.first_step) / max(now - self.start, 1e-9)
        eta = (total - step) / rate if rate > 0 else 0
        bar = "#" * int(done * self.width) + "-" * (self.width - int(done * self.width))
        acc = metrics.get(self.key)
        acc_text = f" {self.key} {acc:.3f}" if acc is not None else ""
        line = (f"epoch {epoch:5.2f} [{bar}] step {step}/{total} loss {metrics.get('loss', float('nan')):.4f}"
                f"{acc_text} {metrics.get('img_per_s', 0):.0f} img/s ETA {_clock(eta)}")
        self.stream.write(("\r" + line + "\033[K") if self.tty else line + "\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        first = text.splitlines()[0] if text else ""
        self.stream.write(("\r\033[K" if self.tty else "") + first + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


class CountBar:
    """Progress of ``done/total`` items (evaluation, feature extraction)."""

    def __init__(self, label: str, stream=None):
        self.label, self.stream = label, stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.start, self.last = time.monotonic(), 0.0

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = time.monotonic()
        if done < total and now - self.last < (0.2 if self.tty else 5.0):
            return
        self.last = now
        frac = done / max(total, 1)
        bar = "#" * int(frac * 24) + "-" * (24 - int(frac * 24))
        line = f"{self.label} [{bar}] {done}/{total} {note} {_clock(now - self.start)}"
        self.stream.write(("\r" + line + "\033[K" + ("\n" if done >= total else "")) if self.tty else line + "\n")
        self.stream.flush()
