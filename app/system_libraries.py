"""Which system libraries Qt's X11 platform plugin cannot find, asked before Qt loads it.

Qt aborts the whole process (exit 134) when ``libqxcb.so`` misses a library, and its message
names ``libxcb-cursor0`` whatever is really absent. ``ldd`` on the plugin tells exactly which
shared objects are missing; each is mapped to the Debian/Ubuntu package that ships it
(the list is ``resources/qt-system-packages.txt``)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

# shared object -> Debian/Ubuntu package
PACKAGE_OF = {
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libOpenGL.so.0": "libopengl0",
    "libfontconfig.so.1": "libfontconfig1", "libglib-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3", "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6", "libxcb.so.1": "libxcb1", "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1", "libfreetype.so.6": "libfreetype6",
    # Qt Multimedia's audio output (the New run preview's Play button)
    "libpulse.so.0": "libpulse0",
}
NOT_FOUND = re.compile(r"^\s*(\S+)\s*=>\s*not found", re.M)


def xcb_plugin() -> Path | None:
    """PySide6's X11 platform plugin, found without importing Qt."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    plugin = Path(list(spec.submodule_search_locations)[0]) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
    return plugin if plugin.exists() else None


def missing_libraries(ldd_output: str) -> list[str]:
    """The shared objects ``ldd`` reports as not found, in order, each once."""
    return list(dict.fromkeys(NOT_FOUND.findall(ldd_output)))


def uses_xcb() -> bool:
    """Whether Qt will load its X11 plugin: Linux, and no other platform chosen."""
    if not sys.platform.startswith("linux"):
        return False
    chosen = os.environ.get("QT_QPA_PLATFORM", "")
    return chosen.startswith("xcb") or (not chosen and bool(os.environ.get("DISPLAY"))
                                       and not os.environ.get("WAYLAND_DISPLAY"))


def missing_for_xcb() -> list[str]:
    """Shared objects the X11 plugin needs and cannot find (empty when all are there, or when
    ``ldd`` or the plugin is not available to ask)."""
    plugin, ldd = xcb_plugin(), shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return missing_libraries(out)


def missing_message(missing: list[str]) -> str:
    """One sentence naming the missing libraries and the command that installs them."""
    packages = list(dict.fromkeys(PACKAGE_OF.get(name, name) for name in missing))
    return (f"pretext: Qt's X11 platform cannot start because {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} missing; install with: "
            f"sudo apt-get install {' '.join(packages)}")
