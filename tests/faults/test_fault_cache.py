"""Guarantee: deleting a run deletes its caches (issue 19, found 10): the frozen-feature files
it alone used go, other runs' stay."""
import pytest
from fault_helpers import tiny_config

from engine.runs.paths import RunPaths
from engine.store.database import Store

pytestmark = pytest.mark.faults


def test_deleting_a_run_deletes_its_feature_caches(home):
    store = Store(home)
    gone, kept = (store.create_run(tiny_config(epochs=1, home=home)) for _ in range(2))
    features = RunPaths(home).features
    features.mkdir(parents=True)
    for run in (gone, kept):
        (features / f"{run}-abc123-train.npz").write_bytes(b"x")
    store.delete_run(gone)
    assert sorted(p.name for p in features.iterdir()) == [f"{kept}-abc123-train.npz"]
