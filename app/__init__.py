"""The Pretext workbench: a PySide6 + pyqtgraph face on the engine. It never trains; it
reads the experiment store and launches engine workers."""
