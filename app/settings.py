"""Where the workbench keeps its preferences (window geometry, last choices, theme).

An INI file in the user's config folder, so tests can redirect it with
``QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, tmp)``.
"""
from __future__ import annotations

from PySide6.QtCore import QSettings

ORGANIZATION = "Pretext"
APPLICATION = "workbench"


def app_settings() -> QSettings:
    return QSettings(QSettings.IniFormat, QSettings.UserScope, ORGANIZATION, APPLICATION)
