"""Entry point of the workbench: ``run(home)`` opens the window and returns the exit code.

``main.py`` with no arguments calls it. Without a display it says how to work headless
and returns 2 instead of letting Qt abort."""
from __future__ import annotations

import os
import sys
from pathlib import Path

HEADLESS_HINT = ("pretext: no display found (DISPLAY/WAYLAND_DISPLAY unset); run headless with "
                 "`python main.py train --help`, or set QT_QPA_PLATFORM=offscreen")


def display_available() -> bool:
    """True when Qt can open a window: a chosen platform plugin (offscreen, xcb, wayland...),
    a desktop OS, or an X11/Wayland display."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def create_window(home: Path):
    """The QApplication (created if needed, themed) and the main window, not yet shown."""
    from PySide6.QtWidgets import QApplication

    from app import theme
    from app.settings import app_settings

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Pretext")
    app.setOrganizationName("Pretext")
    theme.install(app, str(app_settings().value("theme/mode", "system")))
    from app.views.main_window import MainWindow

    return app, MainWindow(Path(home))


def run(home: Path) -> int:
    if not display_available():
        print(HEADLESS_HINT, file=sys.stderr)
        return 2
    from app import system_libraries

    if system_libraries.uses_xcb():  # Qt would abort with a misleading message; say what is missing
        missing = system_libraries.missing_for_xcb()
        if missing:
            print(system_libraries.missing_message(missing), file=sys.stderr)
            return 2
    app, window = create_window(home)
    window.show()
    return app.exec()
