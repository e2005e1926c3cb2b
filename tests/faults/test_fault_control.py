"""Guarantee: control requests are never lost (issue 19, found 3), whatever the worker's
state when they arrive: a stop or pause sent while the worker is still starting is obeyed."""
import pytest
from fault_helpers import (
    install_fault_plugin,
    start_worker,
    steps_of,
    tiny_config,
    wait_for,
)

from engine.runs.process_control import request_pause, request_stop
from engine.store.database import Store

pytestmark = pytest.mark.faults


def _run(home):
    install_fault_plugin(home)
    store = Store(home)
    return store, store.create_run(tiny_config("fault_slow", epochs=2, sets={"step_sleep": "0.05"}, home=home))


def test_a_stop_sent_while_the_worker_starts_is_obeyed(home):
    store, run = _run(home)
    proc = start_worker(home, run)
    request_stop(store, run)  # the worker is still importing torch: it has not read control yet
    out = proc.communicate(timeout=240)[0].decode()
    assert proc.returncode == 0, out
    row = store.get_run(run)
    assert row.status == "stopped" and row.step == 0, (row.status, row.step)
    assert steps_of(store, run) == [], "it never trained"


def test_a_pause_sent_while_the_worker_starts_is_obeyed(home):
    store, run = _run(home)
    proc = start_worker(home, run)
    request_pause(store, run)
    try:
        wait_for(lambda: store.run_dir(run).log.exists() and "paused at step 0" in store.run_dir(run).log.read_text(),
                 240, "the worker to pause before its first step")
        assert steps_of(store, run) == []
        wait_for(lambda: store.get_run(run).status == "paused", 30, "the worker to record paused")
        request_pause(store, run, False)
        out = proc.communicate(timeout=240)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert steps_of(store, run) == list(range(1, 9))


def test_a_run_stopped_before_its_worker_launched_is_not_started_by_it(home):
    store, run = _run(home)
    request_stop(store, run)  # queued, no worker yet: stopped at once
    assert store.get_run(run).status == "stopped"
    proc = start_worker(home, run)
    out = proc.communicate(timeout=240)[0].decode()
    assert proc.returncode == 2 and "was not started" in out, out
    assert store.get_run(run).status == "stopped" and steps_of(store, run) == []
