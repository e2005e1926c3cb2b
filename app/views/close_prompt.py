"""The question asked when the window closes while runs are in progress."""
from __future__ import annotations

from PySide6.QtWidgets import QMessageBox

STOP, LEAVE, CANCEL = "stop", "leave", "cancel"


def ask_about_active_runs(parent, names: list[str]) -> str:
    """Stop them, leave them running, or cancel closing. Returns STOP, LEAVE or CANCEL."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Question)
    box.setWindowTitle("Runs in progress")
    listed = ", ".join(names[:5]) + ("…" if len(names) > 5 else "")
    box.setText(f"{len(names)} run(s) are in progress: {listed}.")
    box.setInformativeText("Stop them (each saves a checkpoint and can be resumed), or leave them running in "
                           "the background? Runs left running appear here again when Pretext reopens.")
    box.setStandardButtons(QMessageBox.Yes | QMessageBox.No | QMessageBox.Cancel)
    box.button(QMessageBox.Yes).setText("Stop them")
    box.button(QMessageBox.No).setText("Leave running")
    box.setDefaultButton(QMessageBox.No)
    answer = box.exec()
    return {QMessageBox.Yes: STOP, QMessageBox.No: LEAVE}.get(QMessageBox.StandardButton(answer), CANCEL)
