"""Before step 1 a run stores the levels its kNN curve is read against: chance and the same
network at random initialisation, computed once per data/backbone/method/seed and cached."""
import json

from engine.runs.paths import RunPaths
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config
from engine.training.reference import CHANCE_KEY, RANDOM_INIT_KEY, reference_key

SETS = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8", "num_classes": "4"}


def _config(**train):
    return build_config("shapes", "simclr", "convnet", sets=SETS, train={"epochs": 1, "batch_size": 32, **train})


def test_a_run_stores_chance_and_random_init_at_step_0_and_caches_them(home):
    with Store(home) as store:
        first = store.create_run(_config())
        assert execute(home, first) == "completed"
        rows = {r["key"]: r for r in store.metrics_since(first) if r["key"] in (RANDOM_INIT_KEY, CHANCE_KEY)}
        assert set(rows) == {RANDOM_INIT_KEY, CHANCE_KEY} and {r["step"] for r in rows.values()} == {0}
        assert 0.25 <= rows[CHANCE_KEY]["value"] <= 1 and 0 <= rows[RANDOM_INIT_KEY]["value"] <= 1
        cached = RunPaths(home).cache / "references" / f"{reference_key(_config())}.json"
        assert json.loads(cached.read_text())[RANDOM_INIT_KEY] == rows[RANDOM_INIT_KEY]["value"]
        cached.write_text(json.dumps({RANDOM_INIT_KEY: 0.5, CHANCE_KEY: 0.25}))  # the cache is read, not recomputed
        second = store.create_run(_config())
        assert execute(home, second) == "completed"
        again = {r["key"]: r["value"] for r in store.metrics_since(second) if r["key"] == RANDOM_INIT_KEY}
        assert again == {RANDOM_INIT_KEY: 0.5}


def test_no_references_without_the_knn_monitor(home):
    with Store(home) as store:
        run = store.create_run(_config(knn_every=0))
        assert execute(home, run) == "completed"
        assert not [r for r in store.metrics_since(run) if r["key"] in (RANDOM_INIT_KEY, CHANCE_KEY)]
