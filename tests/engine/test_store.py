import os
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from engine.store.database import Store, StoreError

CFG = {"method": {"id": "simclr"}, "backbone": {"id": "convnet"}, "data": {"id": "shapes"},
       "train": {"epochs": 1}}


def test_reader_and_writer_at_once(home):
    """A writer logging batches while a reader polls incrementally: no lost row, no lock error."""
    store = Store(home)
    run = store.create_run(CFG)
    errors, seen = [], []
    done = threading.Event()

    def write():
        try:
            w = Store(home)
            for step in range(300):
                w.log_metrics(run, [(step, 0.0, time.time(), "loss", float(step)), (step, 0.0, time.time(), "lr", 0.1)])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            done.set()

    def read():
        r, last = Store(home), 0
        try:
            while not done.is_set() or True:
                rows = r.metrics_since(run, last)
                if rows:
                    last = rows[-1]["id"]
                    seen.extend(rows)
                elif done.is_set():
                    break
                time.sleep(0.005)
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(seen) == 600
    assert len({row["id"] for row in seen}) == 600
    assert store.latest(run)["loss"] == 299.0


def test_dead_worker_shows_as_crashed(home):
    store = Store(home)
    run = store.create_run(CFG)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    store.update_run(run, status="running", pid=proc.pid, host=os.uname().nodename, started=time.time(),
                     heartbeat=time.time())
    assert Store(home).get_run(run).status == "crashed"


def test_stale_heartbeat_shows_as_crashed(home):
    store = Store(home)
    run = store.create_run(CFG)
    store.update_run(run, status="running", pid=None, host="elsewhere", started=time.time() - 600,
                     heartbeat=time.time() - 600)
    listed = {r.id: r for r in Store(home).list_runs()}
    assert listed[run].status == "crashed"
    assert "heartbeat" in listed[run].error


def test_not_a_database_is_refused_and_untouched(tmp_path):
    (tmp_path / "experiments.db").write_bytes(b"hello, this is not sqlite" * 10)
    with pytest.raises(StoreError, match="not a Pretext experiment store"):
        Store(tmp_path)
    assert (tmp_path / "experiments.db").read_bytes().startswith(b"hello")


def test_newer_schema_is_refused(tmp_path):
    Store(tmp_path).close()
    conn = sqlite3.connect(tmp_path / "experiments.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        Store(tmp_path)


def test_search_uses_bound_parameters(home):
    store = Store(home)
    store.create_run(CFG, name="it's a run")
    assert len(store.list_runs(search="it's")) == 1
    assert store.list_runs(search="'; DROP TABLE runs; --") == []
    assert len(store.list_runs()) == 1


def test_watched_runs_are_the_active_ones_and_those_asked_for(home):
    """What the GUI polls every 2 s: active runs plus the named ones, read like list_runs."""
    from engine.runs.status import RunStatus

    with Store(home) as store:
        done, running, other = (store.create_run(CFG) for _ in range(3))
        store.update_run(done, status=RunStatus.COMPLETED)
        store.update_run(other, status=RunStatus.FAILED)
        store.claim_run(running, os.getpid(), "here")
        store.log_metrics(done, [(1, 0, 0.0, "loss", 2.5)])
        store.add_eval(done, "knn", "shapes", {}, {"top1": 0.5})
        assert {r.id for r in store.watched_runs()} == {running}
        watched = {r.id: r for r in store.watched_runs([done, "deleted-meanwhile"])}
        assert set(watched) == {running, done}
        full = {r.id: r for r in store.list_runs()}
        assert watched[done] == full[done] and watched[done].latest == {"loss": 2.5}
        assert watched[running].status == full[running].status == RunStatus.RUNNING


def test_truncate_rebuilds_latest(home):
    store = Store(home)
    run = store.create_run(CFG)
    store.log_metrics(run, [(s, 0, 0.0, "loss", float(s)) for s in range(1, 11)])
    store.truncate_metrics(run, 4)
    assert store.metric_series(run, "loss")[0] == [1, 2, 3, 4]
    assert store.latest(run) == {"loss": 4.0}


def test_runs_are_typed_and_read_only(home):
    import dataclasses

    from engine.runs.status import RunStatus
    from engine.store.run_record import Run

    with Store(home) as store:
        run_id = store.create_run(CFG, name="typed")
        store.log_metrics(run_id, [(1, 0.1, time.time(), "loss", 2.5)])
        run = store.get_run(run_id)
        (listed,) = store.list_runs()
    assert isinstance(run, Run) and run.status is RunStatus.QUEUED and run.name == "typed"
    assert run.config == CFG and run.latest == {} and listed.latest == {"loss": 2.5} and listed.evals == 0
    assert run.to_dict()["status"] == "queued" and type(run.to_dict()["status"]) is str
    with pytest.raises(dataclasses.FrozenInstanceError):
        run.status = RunStatus.RUNNING
    with pytest.raises(TypeError):
        run["status"]  # no dict-style access: callers use attributes


def test_store_as_context_manager_closes(home):
    with Store(home) as store:
        store.list_runs()
    with pytest.raises(sqlite3.ProgrammingError):
        store.conn.execute("SELECT 1")


def test_an_unknown_stored_status_is_one_sentence(home):
    with Store(home) as store:
        run_id = store.create_run(CFG)
        store.conn.execute("UPDATE runs SET status = ? WHERE id = ?", ("exploded", run_id))  # a foreign writer
        run = store.get_run(run_id)  # a damaged row is still listed (issue 19)
        assert "unknown run status 'exploded'" in run.damage
        with pytest.raises(StoreError, match="unknown run status 'exploded'"):
            run.check_usable()
