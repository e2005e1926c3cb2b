"""What every plugin says about itself, whatever its kind (dataset, backbone, method).

The registry keys plugins by ``id``; forms, the plugin picker and ``main.py plugins`` show
``title``, ``summary`` and ``citation`` and build their fields from ``params`` (a list of
``engine.params.Param``). Plugin bases inherit these defaults, so a plugin sets only what it has.
"""
from __future__ import annotations


class PluginCard:
    id = ""
    title = ""
    summary = ""
    citation = ""  # the paper: authors, year, title
    params: list = []  # engine.params.Param, one per user-settable value
