"""Guarantee 8: a worker that cannot start, or dies before reporting, leaves a readable error
on its run (never a run stuck ``queued``/``running``); a GUI killed with runs in progress
leaves its workers training, and a new reader shows them live."""
import os
import signal
import subprocess
import sys
import time

import pytest
from fault_helpers import ROOT, install_fault_plugin, tiny_config, wait_for, worker_env

from engine.runs.process_control import request_stop, spawn_worker
from engine.store.database import Store
from engine.store.liveness import pid_alive as _pid_alive

pytestmark = pytest.mark.faults


def test_a_missing_interpreter_fails_the_run_with_a_readable_error(home):
    store = Store(home)
    run = store.create_run(tiny_config(home=home))
    with pytest.raises(OSError):  # what the GUI's Start catches and shows
        spawn_worker(home, run, python="/nonexistent/python3")
    row = Store(home).get_run(run)
    assert row.status == "failed"
    assert row.error.startswith("the worker could not start") and "/nonexistent/python3" in row.error


def test_a_worker_that_dies_before_reporting_is_crashed_with_its_last_words(home, tmp_path):
    """An interpreter that cannot import what the worker needs exits at once; its run is
    ``crashed`` (its pid is dead) and the error quotes what it printed."""
    python = tmp_path / "python-without-torch"
    python.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n")
    python.chmod(0o755)
    store = Store(home)
    run = store.create_run(tiny_config(home=home))
    proc = spawn_worker(home, run, python=str(python))
    assert proc.wait(timeout=30) == 1
    row = Store(home).get_run(run)
    assert row.status == "crashed"
    assert "exited without reporting" in row.error and "No module named 'torch'" in row.error


GUI = """
import sys, time
from engine.runs.process_control import spawn_worker
proc = spawn_worker(sys.argv[1], sys.argv[2])
print(proc.pid, flush=True)
time.sleep(600)
"""


def test_workers_outlive_a_killed_gui_and_show_up_live(home):
    install_fault_plugin(home)
    store = Store(home)
    run = store.create_run(tiny_config("fault_slow", epochs=200, sets={"step_sleep": "0.05"}, home=home))
    gui = subprocess.Popen([sys.executable, "-c", GUI, str(home), run], cwd=ROOT, env=worker_env(),
                           stdout=subprocess.PIPE, text=True)
    worker_pid = int(gui.stdout.readline())
    try:
        wait_for(lambda: store.get_run(run).step >= 2, 180, "the worker's first steps")
        gui.send_signal(signal.SIGKILL)
        gui.wait(timeout=30)
        seen = Store(home).get_run(run).step
        time.sleep(3)
        reader = Store(home)  # a GUI opened again
        row = reader.get_run(run)
        assert row.status == "running" and row.pid == worker_pid and _pid_alive(worker_pid)
        assert row.step > seen, "it kept training after the GUI died"
        assert time.time() - row.heartbeat < 10
        assert reader.latest(run)["loss"] > 0
        request_stop(reader, run)
        wait_for(lambda: Store(home).get_run(run).status == "stopped", 120, "the worker to stop")
        wait_for(lambda: not _pid_alive(worker_pid), 30, "the worker process to exit")
    finally:
        if gui.poll() is None:
            gui.kill()
            gui.wait()
        if _pid_alive(worker_pid):
            os.kill(worker_pid, signal.SIGKILL)
