"""End to end with real workers: a sweep's runs train one at a time on one CPU slot, a run
that fails does not stop the next, every finished run is evaluated automatically with the
sweep's protocols (stored like any evaluation), the random-init reference is built and
evaluated once, and the scaling curves come out of the store."""
import json

from engine.runs.executor import LocalExecutor
from engine.runs.queue_stage import QueueStage
from engine.store import queue_table
from engine.store.database import Store
from engine.store.sweep_record import create_sweep, get_sweep, sweep_runs
from engine.sweeps.axes import parse_axis
from engine.sweeps.scaling import metric_names, scaling
from engine.sweeps.spec import SweepSpec, plan
from engine.sweeps.status import SweepStatus
from tests.engine.queue_helpers import drain

TINY = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8", "epochs": "1",
        "batch_size": "16", "knn_every": "0", "device": "cpu"}


def test_sweep_runs_are_trained_then_evaluated(home, registry):
    spec = SweepSpec("rotation", sets=TINY, axes=(parse_axis("seed=0,1,2"),), protocols=("knn", "svm"),
                     protocol_params={"svm": {"costs": "0.1,1", "folds": 2}})
    with Store(home) as store:
        sweep_id = create_sweep(store, spec, plan(spec))
        broken, *good = [r.id for r in sweep_runs(store, sweep_id)]
        config = store.get_run(broken).config
        config["backbone"]["id"] = "no-such-backbone"  # fails in its worker, not before
        store.conn.execute("UPDATE runs SET config = ? WHERE id = ?", (json.dumps(config), broken))
    executor = LocalExecutor()
    drain(home, executor, 400, executor.terminate_all)
    with Store(home) as store:
        runs = {r.id: r for r in sweep_runs(store, sweep_id)}
        sweep = get_sweep(store, sweep_id)
        stages = {i.run_id: i for i in queue_table.items(store, sweep_id)}
        evals = {rid: sorted(e["protocol"] for e in store.evals(rid)) for rid in runs}
        reference = sorted(e["protocol"] for e in store.evals(sweep.reference))
        names = metric_names(store, sweep_id)
        curves = scaling(store, sweep_id, "svm acc")
    assert runs[broken].status == "failed" and "no-such-backbone" in runs[broken].error
    assert [runs[r].status for r in good] == ["completed", "completed"]
    assert evals == {broken: [], good[0]: ["knn", "svm"], good[1]: ["knn", "svm"]}
    assert {s.stage for s in stages.values()} == {QueueStage.DONE} and not stages[good[0]].error
    assert sweep.status == SweepStatus.COMPLETED and reference == ["knn", "svm"]
    assert names[0] == "knn@20" and "svm acc" in names and "final loss" in names
    assert [p.x for p in curves.curves[0].points] == [1, 2] and curves.reference is not None
