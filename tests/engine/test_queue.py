"""The run queue (engine/runs/queue.py): slots are respected, a restarted scheduler resumes
the queue, a failing run does not stop the others, two schedulers never start the same run,
and pause / cancel / reorder of a sweep's runs."""
import threading

import pytest

from engine.runs.queue import Scheduler
from engine.runs.queue_stage import QueueStage
from engine.runs.slots import parse_slots, slot_env
from engine.store import queue_table
from engine.store.database import Store, StoreError
from engine.store.sweep_record import create_sweep, get_sweep, sweep_runs
from engine.sweeps import control
from engine.sweeps.axes import parse_axis
from engine.sweeps.spec import SweepSpec, plan
from engine.sweeps.status import SweepStatus
from tests.engine.queue_helpers import SleepExecutor, running

TINY = {"test_size": "32", "width": "8", "epochs": "1", "batch_size": "16", "knn_every": "0"}


def _sweep(home, n=4, **fields) -> list[str]:
    spec = SweepSpec("rotation", sets=TINY, axes=(parse_axis("seed=" + ",".join(map(str, range(n)))),),
                     protocols=(), **fields)
    with Store(home) as store:
        sweep_id = create_sweep(store, spec, plan(spec))
        return [r.id for r in sweep_runs(store, sweep_id)]


@pytest.fixture
def executor(home):
    ex = SleepExecutor(home)
    yield ex
    ex.kill_all()


def test_slots_parse_and_pin_devices():
    assert parse_slots("cpu=2") == ["cpu/0", "cpu/1"]
    assert parse_slots("cuda:0=1,cuda:1=2") == ["cuda:0/0", "cuda:1/0", "cuda:1/1"]
    assert slot_env("cuda:1/0") == {"CUDA_VISIBLE_DEVICES": "1"} and slot_env("cpu/0") == {"CUDA_VISIBLE_DEVICES": ""}
    for bad in ("gpu=1", "cpu=0", "cpu=x", ""):
        with pytest.raises(ValueError):
            parse_slots(bad)


def test_slots_are_respected_and_runs_start_in_order_as_they_free(home, registry, executor):
    ids = _sweep(home, 5)
    scheduler = Scheduler(home, ["cpu/0", "cpu/1"], executor)
    try:
        tick = scheduler.tick()
        assert [s[0] for s in tick.started] == ids[:2] and running(home) == sorted(ids[:2])
        assert scheduler.tick().started == []  # both slots busy
        executor.finish(ids[0])
        tick = scheduler.tick()
        assert tick.freed == [ids[0]] and [s[0] for s in tick.started] == [ids[2]]
        assert tick.started[0][2] == "cpu/0"  # the freed slot
        assert len(queue_table.held(scheduler.store)) == 2
    finally:
        scheduler.close()


def test_a_restarted_scheduler_resumes_the_queue(home, registry, executor):
    ids = _sweep(home, 3)
    first = Scheduler(home, ["cpu/0"], executor)
    first.tick()
    first.close()  # the GUI closes; its worker goes on
    assert running(home) == [ids[0]]
    second = Scheduler(home, ["cpu/0"], executor)
    try:
        assert second.tick().started == []  # the slot is still held by the live worker
        executor.finish(ids[0])
        assert [s[0] for s in second.tick().started] == [ids[1]]
        executor.finish(ids[1])
        second.tick()
        executor.finish(ids[2])
        tick = second.tick()
        assert tick.pending == 0 and tick.completed_sweeps == [1]
        assert get_sweep(second.store, 1).status == SweepStatus.COMPLETED
    finally:
        second.close()


def test_a_failing_or_crashing_run_does_not_stop_the_others(home, registry, executor):
    ids = _sweep(home, 3)
    scheduler = Scheduler(home, ["cpu/0"], executor)
    try:
        scheduler.tick()
        executor.finish(ids[0], status="failed")
        assert [s[0] for s in scheduler.tick().started] == [ids[1]]
        executor.procs[ids[1]].kill()  # a worker that dies without a word reads as crashed
        executor.procs[ids[1]].wait()
        assert [s[0] for s in scheduler.tick().started] == [ids[2]]
        stages = {i.run_id: i.stage for i in queue_table.items(scheduler.store)}
        assert stages[ids[0]] == stages[ids[1]] == QueueStage.DONE
    finally:
        scheduler.close()


def test_two_schedulers_never_start_the_same_run(home, registry, executor):
    ids = _sweep(home, 8)
    slots = ["cpu/0", "cpu/1", "cpu/2"]
    schedulers = [Scheduler(home, slots, executor) for _ in range(2)]
    peak, errors = [0], []

    def loop(s):
        try:
            for _ in range(12):
                s.tick()
                peak[0] = max(peak[0], len(running(home)))
                for rid in running(home)[:1]:
                    executor.finish(rid)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=loop, args=(s,)) for s in schedulers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for s in schedulers:
        s.close()
    assert not errors, errors
    assert sorted(executor.started) == sorted(set(executor.started))  # no run started twice
    assert set(executor.started) == set(ids) and peak[0] <= len(slots)


def test_pause_cancel_and_reorder(home, registry, executor):
    ids = _sweep(home, 4)
    scheduler = Scheduler(home, ["cpu/0"], executor)
    try:
        control.pause(scheduler.store, 1)
        tick = scheduler.tick()
        assert tick.started == [] and tick.pending == 0  # a paused sweep keeps no --until-empty going
        control.resume(scheduler.store, 1)
        assert queue_table.move(scheduler.store, ids[3], 1)[0] == ids[3]
        assert [s[0] for s in scheduler.tick().started] == [ids[3]]
        sweep, stopped = control.cancel(scheduler.store, 1)
        assert sweep.status == SweepStatus.CANCELLED and stopped == 4
        executor.finish(ids[3], status="stopped")  # the worker obeys the stop
        tick = scheduler.tick()
        assert tick.started == [] and tick.pending == 0
        assert {r.status for r in sweep_runs(scheduler.store, 1)} == {"stopped"}
    finally:
        scheduler.close()


def test_queue_cli(home, registry, capsys):
    from engine.cli.commands import main

    ids = _sweep(home, 3)
    args = ["--home", str(home)]
    assert main(["queue", "list", *args]) == 0 and capsys.readouterr().out.count("waiting") == 3
    assert main(["queue", "move", ids[2], "1", *args]) == 0
    assert "now number 1 of 3" in capsys.readouterr().out
    with Store(home) as store:
        assert [i.run_id for i in queue_table.items(store, pending_only=True)] == [ids[2], ids[0], ids[1]]
    for bad in (["queue", "run", "--slots", "gpu=1"], ["queue", "run", "--poll", "0"], ["queue", "move", ids[0]],
                ["queue", "move", "nosuch", "1"], ["queue", "move", ids[0], "x"]):
        assert main([*bad, *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err


def test_runs_of_their_own_wait_for_a_slot_behind_each_other(home, registry, executor):
    """What New run's Start does (queue_table.enqueue_run): no sweep, the end of the queue."""
    from engine.training.config import build_config

    config = build_config("shapes", "rotation", "convnet", sets=TINY)
    with Store(home) as store:
        first, second = (queue_table.enqueue_run(store, config, name) for name in ("first", "second"))
        assert store.get_run(first).status == "queued" and queue_table.waiting_runs(store) == [first, second]
    scheduler = Scheduler(home, ["cpu/0"], executor)
    try:
        assert [s[0] for s in scheduler.tick().started] == [first] and scheduler.tick().started == []
        assert queue_table.waiting_runs(scheduler.store) == [second] and scheduler.pending() == 2
        executor.finish(first)
        assert [s[0] for s in scheduler.tick().started] == [second]
        executor.finish(second)
        assert scheduler.tick().pending == 0  # --until-empty ends here
    finally:
        scheduler.close()


def test_a_resumed_run_waits_in_the_queue_and_its_finished_sweep_evaluates_again(home, registry, executor):
    """The GUI's Resume (queue_table.return_to_queue): the run waits for a slot at the end of the
    queue; a completed sweep becomes active again (its evaluation follows); a cancelled sweep's
    run trains as one of its own; a run not queued to resume is refused."""
    from engine.runs.process_control import prepare_resume
    from engine.store.sweep_record import set_sweep_status

    ids = _sweep(home, 2)
    scheduler = Scheduler(home, ["cpu/0"], executor)
    try:
        scheduler.tick()
        executor.finish(ids[0], status="stopped")
        scheduler.tick()
        executor.finish(ids[1])
        assert scheduler.tick().pending == 0 and get_sweep(scheduler.store, 1).status == SweepStatus.COMPLETED
        with pytest.raises(StoreError, match="not queued"):
            queue_table.return_to_queue(scheduler.store, ids[0])  # stopped, not yet queued again
        prepare_resume(scheduler.store, ids[0], fresh=True)
        queue_table.return_to_queue(scheduler.store, ids[0])
        assert get_sweep(scheduler.store, 1).status == SweepStatus.ACTIVE and scheduler.pending() == 1
        assert [s[0] for s in scheduler.tick().started] == [ids[0]] and executor.started.count(ids[0]) == 2
        executor.finish(ids[0], status="stopped")
        scheduler.tick()
        set_sweep_status(scheduler.store, 1, SweepStatus.CANCELLED, (SweepStatus.ACTIVE, SweepStatus.COMPLETED))
        prepare_resume(scheduler.store, ids[0], fresh=True)
        queue_table.return_to_queue(scheduler.store, ids[0])
        item = next(i for i in queue_table.items(scheduler.store, pending_only=True))
        assert item.run_id == ids[0] and item.sweep_id is None and queue_table.waiting_runs(scheduler.store) == [ids[0]]
    finally:
        scheduler.close()
