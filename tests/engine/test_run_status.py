"""The run status vocabulary: members equal the stored strings, the sets partition sensibly,
and the module stays light enough for the GUI to import before torch."""
import json
import subprocess
import sys

import pytest

from engine.runs.status import ACTIVE, EVALUABLE, RESUMABLE, TERMINAL, RunStatus


def test_members_equal_the_stored_strings(home):
    from engine.store.database import Store

    with_db = Store(home)
    try:
        config = {"method": {"id": "m"}, "backbone": {"id": "b"}, "data": {"id": "d"}}
        run_id = with_db.create_run(config, status=RunStatus.PAUSED)
        stored = with_db.conn.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()[0]
    finally:
        with_db.close()
    assert stored == "paused" and type(stored) is str
    assert RunStatus(stored) is RunStatus.PAUSED
    assert json.dumps([RunStatus.FAILED]) == '["failed"]'
    assert f"{RunStatus.CRASHED:>8}|{RunStatus.QUEUED}" == " crashed|queued"


def test_active_and_terminal_partition_the_statuses():
    assert ACTIVE | TERMINAL == set(RunStatus) and not ACTIVE & TERMINAL
    assert "running" in ACTIVE and "completed" not in ACTIVE
    assert RunStatus.QUEUED.is_active and RunStatus.CRASHED.is_terminal and not RunStatus.PAUSED.is_terminal


def test_resumable_excludes_running_completed_and_queued():
    assert RESUMABLE == {"paused", "stopped", "failed", "crashed"}
    assert RunStatus.FAILED.is_resumable and not RunStatus.COMPLETED.is_resumable
    assert EVALUABLE <= TERMINAL


def test_parse_names_the_valid_statuses():
    assert RunStatus.parse("stopped") is RunStatus.STOPPED
    with pytest.raises(ValueError, match="one of queued, running"):
        RunStatus.parse("done")


def test_importing_it_loads_no_torch():
    code = "import sys, engine.runs.status, engine.store.database; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
