"""Guarantee: writers wait out external locks and readers never write (issue 19, found 2).
A database browser holding the write lock longer than one ``busy_timeout`` neither fails the
run nor kills its heartbeat; meanwhile readers answer at once, see the run as running (its
pid is alive), and a GUI write gives up within a second with one sentence."""
import subprocess
import sys
import time

import pytest
from fault_helpers import ROOT, install_fault_plugin, start_worker, steps_of, tiny_config, wait_for, worker_env

from engine.store.database import Store, StoreError

pytestmark = pytest.mark.faults

HOLD = 7.0
HOLDER = ("import sqlite3, sys, time; c = sqlite3.connect(sys.argv[1], isolation_level=None);"
          "c.execute('BEGIN IMMEDIATE'); c.execute(\"UPDATE runs SET notes = 'edited in a browser'\");"
          "print('locked', flush=True); time.sleep(float(sys.argv[2])); c.execute('ROLLBACK')")


def test_a_run_survives_an_external_write_lock_and_readers_never_wait(home, monkeypatch):
    install_fault_plugin(home)
    monkeypatch.setenv("PRETEXT_HEARTBEAT_TIMEOUT", "1")  # the lock outlasts it: only the live pid says running
    store = Store(home)
    run = store.create_run(tiny_config("fault_slow", epochs=2, sets={"step_sleep": "0.1"}, home=home))
    worker = start_worker(home, run, PRETEXT_BUSY_TIMEOUT="0.3")  # many busy_timeouts pass during the hold
    try:
        wait_for(lambda: store.get_run(run).step >= 2, 120, "step 2")
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(store.path), str(HOLD)], cwd=ROOT,
                                  env=worker_env(), stdout=subprocess.PIPE, text=True)
        assert holder.stdout.readline().strip() == "locked"
        reader = Store(home, busy_timeout=0.2, patience=0.5)
        end = time.monotonic() + HOLD - 3  # leaves the lock held for the write below, even on a loaded machine
        while time.monotonic() < end:
            t0 = time.monotonic()
            runs = reader.list_runs()
            one = reader.get_run(run)
            assert time.monotonic() - t0 < 0.5, "a read waited on the lock"
            assert runs[0].status == one.status == "running", one.error
            time.sleep(0.3)
        t0 = time.monotonic()
        with pytest.raises(StoreError, match="locked by another program"):
            reader.set_control(run, "stop")
        assert time.monotonic() - t0 < 2, "a GUI write gives up quickly"
        holder.wait(timeout=30)
        out = worker.communicate(timeout=240)[0].decode()
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, out
    assert "Traceback" not in out and "locked" not in out, out
    assert store.get_run(run).status == "completed"
    assert steps_of(store, run) == list(range(1, 9)), "no row lost to the lock"
    assert store.get_run(run).notes == "", "the browser's edit was rolled back, nothing else changed"


def test_reading_a_dead_run_derives_crashed_and_writes_nothing(home):
    store = Store(home)
    run = store.create_run(tiny_config(epochs=1, home=home))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.update_run(run, status="running", pid=dead.pid, host=__import__("socket").gethostname(),
                     heartbeat=time.time())
    before = store.conn.execute("SELECT * FROM runs").fetchall()
    assert Store(home).get_run(run).status == "crashed"
    assert [r.status for r in Store(home).list_runs(status="crashed")] == ["crashed"]
    assert [tuple(r) for r in store.conn.execute("SELECT * FROM runs").fetchall()] == [tuple(r) for r in before]
