"""A run's duration is its active training time: the worker's clock stops while it is paused,
a resumed worker goes on from the stored value, and the epoch's last rows reach the store
before its kNN and checkpoint."""
import time

from engine.runs.active_time import ACTIVE_KEY, ActiveClock, run_seconds
from engine.runs.status import RunStatus
from engine.runs.worker import WorkerHooks, execute
from engine.store.database import Store
from engine.store.run_record import Run
from engine.training.config import build_config
from tests.manual_clock import ManualClock

SETS = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8"}


def test_the_clock_does_not_count_the_time_paused():
    t = ManualClock(100.0)
    clock = ActiveClock(base=10.0, clock=t)
    t.now += 5
    clock.pause()
    t.now += 1000  # paused for a long time
    assert clock.seconds() == 15.0
    clock.resume()
    t.now += 2
    assert clock.seconds() == 17.0


def _run(**fields):
    values = {"id": "r", "name": "r", "status": RunStatus.STOPPED, "method": "simclr", "backbone": "convnet",
              "dataset": "shapes", "config": {}, "created": 0.0} | fields
    return Run(**values)


def test_run_seconds_prefers_the_logged_active_time_and_falls_back_to_start_to_end():
    # stopped for an hour before it was resumed: the wall time says 3,700 s, the worker 100 s
    assert run_seconds(_run(started=1000.0, ended=4700.0, latest={ACTIVE_KEY: 100.0})) == 100.0
    assert run_seconds(_run(started=1000.0, ended=1060.0)) == 60.0  # stored before the key existed
    assert run_seconds(_run(status=RunStatus.RUNNING, started=1000.0), now=1030.0) == 30.0
    assert run_seconds(_run()) is None


class FakeLog:
    def __init__(self):
        self.rows, self.flushes, self.updates = [], 0, []

    def metrics(self, step, epoch, values):
        self.rows += [(step, epoch, k, v) for k, v in values.items()]

    def flush(self, **fields):
        self.flushes += 1

    def control(self):
        return self.value

    def update(self, **fields):
        self.updates.append(fields)


def test_the_hooks_flush_an_epochs_last_step_at_once_and_log_active_seconds_when_pausing():
    log = FakeLog()
    hooks = WorkerHooks(log, log_every=1)
    hooks.on_step(1, 4, 0.5, {"loss": 1.0})
    assert log.flushes == 0
    hooks.on_step(2, 4, 1.0, {"loss": 0.9})  # the epoch's end: stored before the kNN runs
    assert log.flushes == 1
    assert [(r[0], r[2]) for r in log.rows] == [(1, "loss"), (1, ACTIVE_KEY), (2, "loss"), (2, ACTIVE_KEY)]
    log.value = "pause"
    hooks.control()
    assert hooks.clock.since is None and log.updates[-1] == {"status": RunStatus.PAUSED}
    log.value = ""
    hooks.control()
    assert hooks.clock.since is not None


def test_a_resumed_run_adds_its_active_time_to_what_was_stored(home):
    store = Store(home)
    config = build_config("shapes", "simclr", "convnet", sets=SETS,
                          train={"epochs": 1, "batch_size": 16, "knn_every": 0})
    run_id = store.create_run(config)
    assert execute(home, run_id) == "completed"
    first = store.latest(run_id)[ACTIVE_KEY]
    run = store.get_run(run_id)
    assert 0 < first <= run.ended - run.started + 0.01
    # as if it had sat stopped for an hour after an earlier worker trained 500 s
    store.log_metrics(run_id, [(run.step, 1.0, time.time(), ACTIVE_KEY, 500.0)])
    store.update_run(run_id, status="stopped", started=run.started - 3600)
    store.requeue(run_id)
    assert execute(home, run_id) == "completed"
    listed = next(r for r in store.list_runs() if r.id == run_id)
    assert 500.0 <= run_seconds(listed) < 500.0 + 60
    assert listed.ended - listed.started > 3600  # the wall time would have said more than an hour
    store.close()
