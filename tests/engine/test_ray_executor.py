"""The Ray executor (optional extra): a sweep's run trains as a Ray task on a local cluster,
its metrics and backbone come back to the desktop store through the driver (the task never
opens the store), and the run is then evaluated as usual. Skipped without Ray."""
import os

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
    assert list(inspect.signature(train_task).parameters) == ["config", "events", "commands"]
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
