"""Runs started from the New run view join the run queue (engine/runs/queue.py): with the one
slot of this machine's device taken, a second Start leaves its run ``queued``, and the queue
starts it when the first run ends."""
from PySide6.QtCore import Qt

from app.jobs import queue_runner
from engine.store import queue_table
from engine.store.database import Store
from tests.app.conftest import fill_tiny, wait_status


def _start(view, qtbot, name: str) -> str:
    view.name.setText(name)
    with qtbot.waitSignal(view.run_started, timeout=10000) as started:
        qtbot.mouseClick(view.start_button, Qt.LeftButton)
    return started.args[0]


def test_a_second_start_waits_in_the_queue_until_the_first_run_ends(window, qtbot, home):
    view = window.new_run
    fill_tiny(view)
    # The first run is long enough to still be training when the second Start is read back,
    # even on a loaded machine (at 2 epochs it sometimes ended in between).
    view.forms["train"].set_values({"epochs": 40})
    view.pickers["method"].set_current("simclr")
    first = _start(view, qtbot, "first")
    view.forms["train"].set_values({"epochs": 2})
    assert queue_runner.running()  # Start served by the queue's scheduler, not a worker of its own
    assert wait_status(home, first, ("running", "completed", "failed", "crashed"), 90) == "running"
    second = _start(view, qtbot, "second")
    with Store(home) as store:
        a, b = store.get_run(first), store.get_run(second)
        entries = {i.run_id: i for i in queue_table.items(store)}
    assert a.status == "running", "the first run should still be training"
    assert b.status == "queued" and b.pid is None and entries[second].slot is None  # waiting for the slot
    assert entries[first].slot is not None
    assert wait_status(home, first, ("completed", "failed", "crashed"), 120) == "completed"
    assert wait_status(home, second, ("completed", "failed", "crashed"), 120) == "completed"
    with Store(home) as store:
        a, b = store.get_run(first), store.get_run(second)
    assert b.started >= a.ended  # one run at a time on the device
