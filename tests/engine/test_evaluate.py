"""evaluate() end to end on tiny shapes runs: stored rows, feature cache, checkpoints,
layer-wise rows, fine-tuning, artifacts, random baseline, cross-dataset evaluation."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import registry
from engine.data.dataset import DataError, DatasetPlugin, Split
from engine.evaluation.evaluate import evaluate, random_baseline
from engine.evaluation.protocols.context import EvalContext
from engine.params import ParamError
from engine.runs.worker import execute
from engine.store.database import Store, StoreError
from engine.training.config import build_config

TINY = {"train_size": "96", "test_size": "48", "image_size": "16", "width": "8", "num_classes": "4"}


def train_run(home, method="supervised", epochs=2, sets=TINY) -> str:
    cfg = build_config("shapes", method, "convnet", train={"epochs": epochs, "batch_size": 32, "device": "cpu",
                                                           "knn_every": 0, "warmup_epochs": 0.0}, sets=sets)
    run_id = Store(home).create_run(cfg)
    assert execute(home, run_id) == "completed"
    return run_id


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    registry.discover()
    home = tmp_path_factory.mktemp("evalhome")
    return home, train_run(home)


def test_evaluate_stores_a_row_with_its_parameters(trained):
    home, run_id = trained
    row = evaluate(home, run_id, "knn", {"k": "5,20"})
    assert row["checkpoint"] == "backbone.pt" and row["dataset"] == "shapes"
    assert set(row["results"]["top1"]) == {"5", "20"}
    stored = [e for e in Store(home).evals(run_id) if e["id"] == row["id"]]
    assert len(stored) == 1
    e = stored[0]
    assert e["protocol"] == "knn" and e["checkpoint"] == "backbone.pt"
    assert e["params"]["k"] == ["5", "20"] and e["params"]["temperature"] == 0.07
    assert e["params"]["data"]["id"] == "shapes" and e["params"]["image_size"] == 16
    assert e["results"] == row["results"]


def test_features_are_cached_once_per_checkpoint_and_split(trained):
    home, run_id = trained
    evaluate(home, run_id, "retrieval", {"queries": "8", "k": "3"})
    cached = sorted((home / "cache" / "features").glob(f"{run_id}-*.npz"))
    assert len(cached) == 2  # train and test pooled features
    before = [p.stat().st_ino for p in cached]  # a rewrite renames a new file into place
    evaluate(home, run_id, "knn")
    assert [p.stat().st_ino for p in cached] == before  # (the mtime is touched: last use, for eviction)
    assert sorted((home / "cache" / "features").glob(f"{run_id}-*.npz")) == cached


def test_last_checkpoint_gives_the_same_features_as_the_final_backbone(trained, tmp_path):
    home, run_id = trained
    store = Store(home)
    ctx = EvalContext(home, store, store.get_run(run_id), device="cpu")
    x = ctx.images("test")[:8]
    final = ctx.load_backbone()
    store.run_dir(run_id).backbone.rename(tmp_path / "backbone.pt")
    try:
        ctx2 = EvalContext(home, store, store.get_run(run_id), device="cpu")
        assert ctx2.checkpoint == "last.pt"
        from engine.ssl.augment import normalize, to_float

        with torch.no_grad():
            a = final.forward_features(normalize(to_float(x)))
            b = ctx2.load_backbone().forward_features(normalize(to_float(x)))
        assert torch.allclose(a, b)
    finally:
        (tmp_path / "backbone.pt").rename(store.run_dir(run_id).backbone)


def test_layerwise_gives_one_row_per_stage(trained):
    home, run_id = trained
    row = evaluate(home, run_id, "layerwise", {"wd_grid": "1e-3", "grid": "2", "max_dims": "64"})
    stages = row["results"]["stages"]
    assert [s["stage"] for s in stages] == ["stem", "stage1", "stage2", "stage3"]  # convnet: stem + 3 stages
    assert [s["dims"] for s in stages] == [32, 64, 32, 64]  # 8x2x2, 16x2x2, 32x1x1 (cap 64), 64x1x1
    assert all(0.0 <= s["top1"] <= 1.0 for s in stages)
    assert list(row["headline"]) == ["layer stem", "layer stage1", "layer stage2", "layer stage3"]


def test_finetune_runs_per_fraction(trained):
    home, run_id = trained
    row = evaluate(home, run_id, "finetune", {"fractions": "0.1,1", "epochs": "1", "min_steps": "3",
                                              "batch_size": "16"})
    fr = row["results"]["fractions"]
    assert set(fr) == {"0.1", "1"}
    assert fr["0.1"]["labels"] == 8 and fr["1"]["labels"] == 96  # round(10 % of 24) = 2 of each of 4 classes
    assert all(0.0 <= r["top1"] <= 1.0 for r in fr.values())
    assert set(row["headline"]) == {"finetune 10%", "finetune 100%"}


def test_finetune_rejects_a_fraction_outside_0_1(trained):
    home, run_id = trained
    with pytest.raises(ParamError, match="fractions"):
        evaluate(home, run_id, "finetune", {"fractions": "0,2"})


def test_embedding_artifact_is_written_and_recorded(trained):
    home, run_id = trained
    row = evaluate(home, run_id, "embedding", {"method": "tsne", "max_points": "30"})
    arts = Store(home).artifacts(run_id, kind="embedding")
    assert arts and arts[-1]["path"] == row["results"]["path"]
    with np.load(arts[-1]["path"]) as z:
        assert z["xy"].shape == (30, 2) and z["labels"].shape == (30,) and z["indices"].shape == (30,)


def test_progress_is_reported_up_to_the_end(trained):
    home, run_id = trained
    calls = []
    evaluate(home, run_id, "linear", {"wd_grid": "0,1e-2"}, progress=lambda d, t, note: calls.append((d, t)))
    assert calls and calls[-1] == (1000, 1000)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_bad_input_raises_one_sentence_errors(trained, nolabels_dataset):
    home, run_id = trained
    with pytest.raises(ParamError, match="unknown protocol"):
        evaluate(home, run_id, "bogus")
    with pytest.raises(StoreError, match="no run"):
        evaluate(home, "no-such-run", "knn")
    cfg = build_config("shapes", "simclr", "convnet", sets=TINY)
    fresh = Store(home).create_run(cfg)
    with pytest.raises(StoreError, match="no checkpoint"):
        evaluate(home, fresh, "knn")
    Store(home).delete_run(fresh)
    with pytest.raises(DataError, match="no 'train' split"):
        evaluate(home, run_id, "knn", data={"id": nolabels_dataset, "params": {}})


class NoLabels(DatasetPlugin):
    """A dataset whose only split is unlabeled: nothing to probe."""

    id, title, summary, citation, params = "nolabels_test", "no labels", "test only", "none", []
    splits = ("unlabeled",)
    has_labels = False

    def build_split(self, name):
        return Split(np.zeros((4, 16, 16, 3), np.uint8))


@pytest.fixture
def nolabels_dataset():
    """Registered for one test only, so registry-wide smoke tests never see it."""
    registry.register_dataset(NoLabels)
    yield NoLabels.id
    registry._entries["dataset"].pop(NoLabels.id, None)


def test_cross_dataset_evaluation_resizes_to_the_run_input_size(trained):
    home, run_id = trained
    other = {"id": "shapes", "params": {"image_size": 24, "train_size": 36, "test_size": 12, "num_classes": 3}}
    row = evaluate(home, run_id, "knn", {"k": "5"}, data=other)
    assert row["params"]["data"]["params"]["image_size"] == 24 and row["params"]["image_size"] == 16
    assert row["results"]["train_size"] == 36


def test_the_runs_own_dataset_with_one_parameter_changed_keeps_the_rest(trained):
    """``eval --data shapes --set data.train_size=N`` on a shapes run: only train_size changes
    (a sweep's data axis evaluates every point on one labeled set this way)."""
    home, run_id = trained
    own = Store(home).get_run(run_id).config["data"]["params"]
    row = evaluate(home, run_id, "knn", {"k": "5"}, data={"id": "shapes", "params": {"train_size": 40}})
    assert row["params"]["data"]["params"] == {**own, "train_size": 40}
    assert row["results"]["train_size"] == 40


def test_random_baseline_is_a_reusable_completed_run(trained):
    home, run_id = trained
    base = random_baseline(home, run_id)
    assert random_baseline(home, run_id) == base
    run = Store(home).get_run(base)
    assert run.status == "completed" and run.method == "random" and run.name == "random init (convnet)"
    assert run.config["method"] == {"id": "random", "params": {}}
    assert run.config["backbone"] == Store(home).get_run(run_id).config["backbone"]
    row = evaluate(home, base, "knn", {"k": "5"})
    assert 0.0 <= row["results"]["top1"]["5"] <= 1.0


def test_linear_probe_beats_chance_on_shapes_features(tmp_path):
    """Even a random convnet's pooled features separate circles from triangles better than a coin."""
    registry.discover()
    sets = {"train_size": "256", "test_size": "128", "image_size": "32", "width": "8", "num_classes": "2"}
    like = Store(tmp_path).create_run(build_config("shapes", "simclr", "convnet", sets=sets))  # never trained
    base = random_baseline(tmp_path, like)
    row = evaluate(tmp_path, base, "linear", {"wd_grid": "0,1e-2,1"})
    print("linear probe top-1 on random convnet features, circle vs triangle:", row["results"]["top1"])
    assert row["results"]["top1"] > 0.6  # chance is 0.5 on 128 balanced test images


@pytest.mark.parametrize("method", ["colorization", "jigsaw"])
def test_features_are_made_from_the_input_the_method_feeds_its_backbone(tmp_path, method):
    """Colorization sees only lightness, jigsaw standardised images: evaluation must too."""
    registry.discover()
    if method not in {e.id for e in registry.entries("method")}:
        pytest.skip(f"no {method} plugin")
    cfg = build_config("shapes", method, "convnet", sets=TINY,
                       train={"epochs": 1, "batch_size": 32, "device": "cpu", "knn_every": 0})
    run_id = Store(tmp_path).create_run(cfg)
    assert execute(tmp_path, run_id) == "completed"
    store = Store(tmp_path)
    ctx = EvalContext(tmp_path, store, store.get_run(run_id), device="cpu")
    feats, _ = ctx.features("test")
    m = registry.create_method(method, ctx.load_backbone(), cfg["method"]["params"], 16, 4).eval()
    expected = m.embed(ctx.images("test"))
    assert torch.allclose(feats, expected, atol=1e-5)
    plain = ctx.load_backbone().forward_features((ctx.images("test").float() / 255 - 0.45) / 0.225)
    assert not torch.allclose(feats, plain.detach(), atol=1e-3)
