"""Light and dark themes that follow the system colour scheme, with a user override.

The Fusion style with an explicit palette looks the same on every platform; plots read
their colours from ``colors()`` and repaint on ``ThemeManager.changed``. Curve colours are
the Okabe & Ito (2008) colour-blind-safe set, in a darker variant for the light
background and a brighter one for the dark, so every curve keeps its contrast.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

MODES = ("system", "light", "dark")


@dataclass(frozen=True)
class Colors:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    muted: str
    button: str
    highlight: str
    error: str
    ok: str
    plot_bg: str
    plot_fg: str
    grid_alpha: float
    curves: tuple


LIGHT = Colors("light", "#f3f3f4", "#ffffff", "#f0f0f2", "#1d1d1f", "#6b6b70", "#e9e9ec", "#2f6fd6",
               "#c62828", "#2e7d32", "#ffffff", "#303036", 0.25,
               ("#0063a6", "#c35a00", "#00805f", "#b0306f", "#7a55a3", "#8a7400", "#2b8cc4", "#8c4a2f"))
DARK = Colors("dark", "#1f2023", "#17181a", "#232427", "#e6e6e9", "#9a9aa2", "#2c2d31", "#4d8ff0",
              "#ef5350", "#66bb6a", "#17181a", "#c8c8cf", 0.2,
              ("#56b4e9", "#e69f00", "#2fd3a0", "#f07fb8", "#b99bf0", "#f0e442", "#9fd8ff", "#e0a080"))


def _palette(c: Colors) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.Window: c.window, QPalette.WindowText: c.text, QPalette.Base: c.base,
        QPalette.AlternateBase: c.alt_base, QPalette.Text: c.text, QPalette.Button: c.button,
        QPalette.ButtonText: c.text, QPalette.ToolTipBase: c.base, QPalette.ToolTipText: c.text,
        QPalette.Highlight: c.highlight, QPalette.HighlightedText: "#ffffff", QPalette.Link: c.highlight,
        QPalette.PlaceholderText: c.muted, QPalette.BrightText: c.error,
    }
    for role, color in roles.items():
        p.setColor(role, QColor(color))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, QColor(c.muted))
    return p


CHECK_MARK = Path(__file__).resolve().parents[1] / "resources" / "check.svg"


def _dark_indicators(c: Colors) -> str:
    """Fusion outlines check boxes in the window colour darkened, invisible on a dark window:
    draw them ourselves, outlined in the muted text colour, filled with the accent when on."""
    on = f"image: url({CHECK_MARK.as_posix()});" if CHECK_MARK.exists() else ""
    boxes = ("QCheckBox::indicator", "QListView::indicator", "QTreeView::indicator", "QTableView::indicator")
    return (f" {', '.join(boxes)} {{ width: 13px; height: 13px; border: 1px solid {c.muted};"
            f" border-radius: 2px; background: {c.base}; }}"
            f" {', '.join(b + ':checked' for b in boxes)} {{ background: {c.highlight};"
            f" border-color: {c.highlight}; {on} }}"
            f" {', '.join(b + ':disabled' for b in boxes)} {{ border-color: {c.alt_base}; }}")


def system_scheme() -> str:
    app = QGuiApplication.instance()
    scheme = app.styleHints().colorScheme() if app else Qt.ColorScheme.Unknown
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


class ThemeManager(QObject):
    """Owns the current theme; ``changed(name)`` fires with ``light`` or ``dark``."""

    changed = Signal(str)

    def __init__(self, app: QApplication, mode: str = "system"):
        super().__init__(app)
        self.app, self.mode = app, mode if mode in MODES else "system"
        app.setStyle("Fusion")
        app.styleHints().colorSchemeChanged.connect(lambda *_: self.mode == "system" and self.apply())
        self.apply()

    @property
    def name(self) -> str:
        return system_scheme() if self.mode == "system" else self.mode

    def set_mode(self, mode: str) -> None:
        self.mode = mode if mode in MODES else "system"
        self.apply()

    def apply(self) -> None:
        c = colors(self.name)
        self.app.setPalette(_palette(c))
        self.app.setStyleSheet(
            f"QLineEdit[invalid=\"true\"], QSpinBox[invalid=\"true\"], QDoubleSpinBox[invalid=\"true\"],"
            f" QComboBox[invalid=\"true\"] {{ border: 2px solid {c.error}; border-radius: 3px; }}"
            f" QLabel[role=\"muted\"] {{ color: {c.muted}; }}"
            f" QLabel[role=\"error\"] {{ color: {c.error}; }}"
            f" QLabel[role=\"title\"] {{ font-weight: 600; font-size: 11pt; }}"
            + (_dark_indicators(c) if c.name == "dark" else ""))
        self.changed.emit(c.name)


_manager: ThemeManager | None = None


def install(app: QApplication, mode: str = "system") -> ThemeManager:
    global _manager
    _manager = ThemeManager(app, mode)
    return _manager


def manager() -> ThemeManager | None:
    return _manager


def colors(name: str | None = None) -> Colors:
    if name is None:
        name = _manager.name if _manager else system_scheme()
    return DARK if name == "dark" else LIGHT


def curve_color(index: int, name: str | None = None) -> str:
    palette = colors(name).curves
    return palette[index % len(palette)]


def restyle(widget, name: str, value: str) -> None:
    """Set the style-sheet property ``name`` (``role``: "error", "muted", ...) and re-apply
    the style sheet, which Qt does not do by itself when a property changes."""
    widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def mark_invalid(widget, message: str | None) -> None:
    """Red border and the reason as tooltip (``message`` None clears both)."""
    widget.setToolTip(message or widget.property("help_text") or "")
    restyle(widget, "invalid", "true" if message else "false")
