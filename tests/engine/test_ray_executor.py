"""The Ray executor (optional extra): a sweep's run trains as a Ray task on a local cluster,
its metrics and backbone come back to the desktop store through the driver (the task never
opens the store), and the run is then evaluated as usual. Skipped without Ray."""
import os
import time

import pytest

from engine.store.database import Store
from engine.store.sweep_record import create_sweep, sweep_runs
from engine.sweeps.axes import parse_axis
from engine.sweeps.spec import SweepSpec, plan
from tests.engine.queue_helpers import drain

ray = pytest.importorskip("ray")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TINY = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8", "epochs": "2",
        "batch_size": "16", "knn_every": "0", "device": "cpu"}


@pytest.fixture
def local_ray():
    ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"PYTHONPATH": ROOT, "OMP_NUM_THREADS": "1"}})
    yield
    ray.shutdown()


def test_a_run_trains_as_a_ray_task_and_reports_through_the_driver(home, registry, local_ray):
    import inspect

    from engine.runs.ray_executor import RayExecutor, train_task

    # the task gets the config and two queues, never the home: it cannot open the store
    assert list(inspect.signature(train_task).parameters) == ["config", "events", "commands", "checkpoint"]
    spec = SweepSpec("rotation", sets=TINY, axes=(parse_axis("seed=3"),), protocols=("knn",))
    with Store(home) as store:
        sweep_id = create_sweep(store, spec, plan(spec))
    executor = RayExecutor("local")
    drain(home, executor, 300, executor.local.terminate_all)
    with Store(home) as store:
        run = sweep_runs(store, sweep_id)[0]
        steps = store.metric_series(run.id, "loss")[0]
        evals = [e["protocol"] for e in store.evals(run.id)]
        artifacts = [a["kind"] for a in store.artifacts(run.id)]
    assert run.status == "completed", run.error
    assert steps == list(range(1, 9)) and run.step == 8 and "(ray)" in run.device
    assert artifacts == ["backbone"] and evals == ["knn"]


def test_a_stopped_ray_run_resumes_from_the_checkpoint_the_driver_kept(home, registry, local_ray):
    """Pause reaches the task (it checkpoints and waits, then goes on); the task sends each
    checkpoint home, so a stop keeps the run's last.pt on the desktop, and the resumed task goes
    on from that step: no step lost, none logged twice."""
    from engine.runs.process_control import prepare_resume, request_pause, request_stop
    from engine.runs.queue import Scheduler
    from engine.runs.ray_executor import RayExecutor
    from engine.store import queue_table

    sets = {**TINY, "train_size": "1500", "image_size": "24", "epochs": "3"}  # ~90 steps an epoch
    spec = SweepSpec("rotation", sets=sets, axes=(parse_axis("seed=3"),), protocols=())
    store = Store(home)
    sweep_id = create_sweep(store, spec, plan(spec))
    run_id = sweep_runs(store, sweep_id)[0].id
    checkpoint = store.run_dir(run_id).last_checkpoint
    scheduler = Scheduler(home, ["cpu/0"], RayExecutor("local"))
    deadline = time.time() + 240

    def tick_until(done):
        while not done() and time.time() < deadline:
            scheduler.tick()
            time.sleep(0.2)

    try:
        tick_until(checkpoint.exists)  # the first epoch's checkpoint came home
        log = store.run_dir(run_id).log
        request_pause(store, run_id, True)
        tick_until(lambda: log.exists() and "paused at step" in log.read_text())
        paused_at = store.get_run(run_id).step
        for _ in range(5):
            scheduler.tick()
            time.sleep(0.2)
        assert store.get_run(run_id).status == "paused" and store.get_run(run_id).step == paused_at
        request_pause(store, run_id, False)
        request_stop(store, run_id)
        tick_until(lambda: store.get_run(run_id).status == "stopped")
        stopped = store.get_run(run_id)
        total = stopped.total_steps
        assert stopped.status == "stopped" and total // 3 <= stopped.step < total, (stopped.status, stopped.step)
        prepare_resume(store, run_id)
        queue_table.return_to_queue(store, run_id)
        epoch = total // 3
        tick_until(lambda: store.get_run(run_id).step > 2 * epoch)  # the second epoch's checkpoint is home
        _kill_the_task_worker()  # the node's worker dies mid-epoch: crashed, not failed; resumable
        tick_until(lambda: store.get_run(run_id).status == "crashed")
        crashed = store.get_run(run_id)
        assert crashed.status == "crashed" and "resume it" in crashed.error, (crashed.status, crashed.error)
        prepare_resume(store, run_id)
        queue_table.return_to_queue(store, run_id)
        tick_until(lambda: store.get_run(run_id).status == "completed")
    finally:
        scheduler.close()
    run = store.get_run(run_id)
    assert run.status == "completed" and run.step == total, run.error
    assert store.metric_series(run_id, "loss")[0] == list(range(1, total + 1))  # every step once
    assert f"resumed from step {stopped.step}" in log.read_text()
    assert f"resumed from step {2 * epoch}" in log.read_text()  # the crash lost only the epoch in progress
    store.close()


def _kill_the_task_worker() -> None:
    """SIGKILL the Ray worker process running train_task (Ray titles it ``ray::train_task``)."""
    import psutil

    for proc in psutil.process_iter(["cmdline"]):
        if "ray::train_task" in " ".join(proc.info["cmdline"] or []):
            proc.kill()
            return
    raise AssertionError("no Ray worker process runs train_task")
