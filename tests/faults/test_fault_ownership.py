"""Guarantee: one owner per run (issue 19, found 1). Starting or resuming takes a new lease
(a compare-and-set on status and lease); a worker whose lease is gone stops without writing
another row, and a deleted run's worker cannot recreate it."""
import os
import signal
import subprocess
import sys

import pytest
from fault_helpers import (
    ROOT,
    slow_run,
    start_worker,
    steps_of,
    wait_for,
    worker_env,
)

from engine.cli.commands import main
from engine.runs.process_control import prepare_resume, request_pause
from engine.store.database import StoreError
from engine.training import checkpoint

pytestmark = pytest.mark.faults


def _slow_run(home, epochs=2, sleep="0.15"):
    store, run, _ = slow_run(home, epochs, step_sleep=sleep)
    return store, run, 4 * epochs  # 4 steps an epoch


def _assert_one_writer(store, run, total):
    assert steps_of(store, run) == list(range(1, total + 1)), "every step stored exactly once"
    assert len(store.artifacts(run, "backbone")) == 1, "one backbone artifact"
    assert store.get_run(run).status == "completed"


def _finish(proc, timeout=240):
    out = proc.communicate(timeout=timeout)[0].decode(errors="replace")
    return proc.returncode, out


def test_two_workers_started_for_one_queued_run_train_it_once(home):
    store, run, total = _slow_run(home, epochs=1, sleep="0.05")
    procs = [start_worker(home, run), start_worker(home, run)]
    results = [_finish(p) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes[0] == 0 and codes[1] != 0, results
    loser = next(out for code, out in results if code != 0)
    assert "was not started" in loser and "Traceback" not in loser, loser
    _assert_one_writer(store, run, total)


def test_two_resumes_at_once_queue_the_run_once(home, capsys):
    store, run, _ = _slow_run(home)
    store.update_run(run, status="stopped")
    assert prepare_resume(store, run) == run
    lease = store.get_run(run).lease
    with pytest.raises(StoreError, match="already queued"):
        prepare_resume(store, run)
    assert store.get_run(run).lease == lease, "the second resume took nothing"
    cmd = [sys.executable, "main.py", "resume", run, "--detach", "--home", str(home)]
    store.update_run(run, status="stopped")
    pair = [subprocess.Popen(cmd, cwd=ROOT, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in pair]
    codes = sorted(p.returncode for p in pair)
    assert codes == [0, 2], outs
    wait_for(lambda: store.get_run(run).status == "completed", 240, "the resumed run to complete")
    _assert_one_writer(store, run, 8)


def test_resume_from_the_cli_of_a_paused_run_unpauses_its_own_worker(home, capsys):
    store, run, total = _slow_run(home)
    proc = start_worker(home, run)
    try:
        wait_for(lambda: store.get_run(run).step >= 2, 120, "step 2")
        request_pause(store, run)
        wait_for(lambda: "paused at step" in store.run_dir(run).log.read_text(), 60, "the worker to pause")
        lease = store.get_run(run).lease
        assert main(["resume", run, "--detach", "--home", str(home)]) == 0
        assert "its worker goes on" in capsys.readouterr().out
        assert store.get_run(run).lease == lease, "no second worker took the run"
        code, out = _finish(proc)
    finally:
        proc.kill()
    assert code == 0, out
    _assert_one_writer(store, run, total)


def test_a_frozen_worker_resumed_elsewhere_stops_without_writing_when_continued(home, monkeypatch):
    """SIGSTOP, then the run reads as crashed (its pid is not checkable: another host), is
    resumed by a second worker, and the first is continued (SIGCONT): it must write nothing."""
    monkeypatch.setenv("PRETEXT_HEARTBEAT_TIMEOUT", "2")
    store, run, total = _slow_run(home, epochs=3)
    old = start_worker(home, run)
    try:
        wait_for(lambda: store.get_run(run).step >= 5, 120, "step 5 (past the first checkpoint)")
        os.kill(old.pid, signal.SIGSTOP)
        store.update_run(run, host="another-host")  # as a worker on a machine we cannot look into
        wait_for(lambda: store.get_run(run).status == "crashed", 30, "the frozen run to read as crashed")
        assert prepare_resume(store, run) == run
        new = start_worker(home, run)
        wait_for(lambda: store.get_run(run).status == "running", 120, "the new worker to start")
        os.kill(old.pid, signal.SIGCONT)
        code, out = _finish(old, 60)
        assert code == 3 and "stops without writing" in out and "Traceback" not in out, out
        new_code, new_out = _finish(new)
    finally:
        for p in (old,):
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
    assert new_code == 0, new_out
    _assert_one_writer(store, run, total)


def test_a_deleted_runs_worker_writes_no_orphan_rows_and_no_folder(home):
    store, run, _ = _slow_run(home)
    proc = start_worker(home, run)
    try:
        wait_for(lambda: store.get_run(run).step >= 2, 120, "step 2")
        os.kill(proc.pid, signal.SIGSTOP)
        store.delete_run(run)
        os.kill(proc.pid, signal.SIGCONT)
        code, out = _finish(proc, 60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 3 and "deleted" in out, out
    for table in ("metrics", "latest", "artifacts", "evals"):
        assert store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (run,)).fetchone()[0] == 0
    assert not store.run_dir(run).root.exists(), "the folder was not recreated"


def test_checkpoint_temp_files_are_per_lease(tmp_path):
    path = tmp_path / "last.pt"
    newer = tmp_path / ".last.pt.tmp-L5-999"
    older = tmp_path / ".last.pt.tmp-L3-998"
    newer.write_bytes(b"x")
    older.write_bytes(b"x")
    checkpoint.save_atomic({"step": 1}, path, tag="L4")
    assert newer.exists(), "a newer owner's temp file is never deleted"
    assert not older.exists(), "an earlier owner's leftover is cleaned up"
    assert checkpoint.load(path)["step"] == 1


def test_a_delete_that_breaks_a_write_ends_the_worker_as_lost_not_failed(home, monkeypatch):
    """The delete took the run's folder, so the worker's next file write fails before any
    lease check: that ends as a lost run (exit 3, nothing written), not as a failure whose
    end row is refused. In-process, so the moment of the delete is exact."""
    from engine.runs.worker import execute
    from engine.store.lease import LeaseLost
    from engine.training.trainer import Trainer

    store, run, _ = slow_run(home, epochs=1)

    def deleted_mid_run(self):
        store.delete_run(run)
        raise FileNotFoundError(2, "No such file or directory", str(store.run_dir(run).root / "checkpoints"))

    monkeypatch.setattr(Trainer, "run", deleted_mid_run)
    with pytest.raises(LeaseLost, match="deleted"):
        execute(home, run)
    assert not store.run_dir(run).root.exists()
    for table in ("metrics", "latest"):
        assert store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE run_id = ?", (run,)).fetchone()[0] == 0
