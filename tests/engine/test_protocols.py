"""Each evaluation protocol on tiny data: on hand-made features through a small stand-in for
EvalContext (exact expectations), and end to end on tiny shapes runs (test_evaluate.py)."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from engine.evaluation import protocols
from engine.evaluation.artifacts import read_embedding, read_retrieval
from engine.evaluation.protocols.fewshot import (
    FewShot,
    draw_support,
    duplicates_of_test,
)
from engine.params import ParamError


class FeatureContext:
    """The slice of EvalContext the frozen-feature protocols use, over given features."""

    def __init__(self, train, test, tmp_path=None, images=None):
        self._feats = {"train": train, "test": test}
        self._images = images or {}
        self.device = torch.device("cpu")
        self.dataset_id = "fake"
        self.num_classes = int(max(train[1].max(), test[1].max())) + 1
        self.tmp_path = tmp_path
        self.saved = []
        self.reports = []

    def phase(self, lo, hi):
        pass

    def require_images(self, what):  # the fake holds images, never clips
        pass

    def report(self, fraction, note=""):
        self.reports.append(fraction)

    def features(self, split):
        return self._feats[split]

    def labeled_split(self, split):
        n = len(self._feats[split][1])
        images = self._images.get(split)
        if images is None:  # distinct images: pixel value i encodes the index (and the split)
            base = 0 if split == "train" else 128
            images = np.stack([np.full((2, 2, 3), (base + i) % 256, np.uint8) + np.uint8(i // 256) for i in range(n)])
        return SimpleNamespace(images=images)

    def save_artifact(self, kind, name, **arrays):
        path = self.tmp_path / f"{kind}-{name}-{len(self.saved)}.npz"
        np.savez(path, **arrays)
        self.saved.append((kind, path))
        return str(path)


def clusters(n_per_class, num_classes=4, dim=16, spread=0.05, seed=0):
    """Well separated Gaussian clusters: (N, dim) float32 features and (N,) labels."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.eye(num_classes, dim) * 3
    y = torch.arange(num_classes).repeat_interleave(n_per_class)
    return centres[y] + spread * torch.randn(len(y), dim, generator=g), y


def separable_context(tmp_path=None, n_train=24, n_test=10, num_classes=4):
    return FeatureContext(clusters(n_train, num_classes, seed=0), clusters(n_test, num_classes, seed=1), tmp_path)


def test_every_protocol_declares_a_schema_and_defaults_resolve():
    assert set(protocols.PROTOCOLS) == {"knn", "linear", "svm", "fewshot", "layerwise", "finetune",
                                        "embedding", "retrieval", "audio_probe", "localisation"}
    for pid, cls in protocols.PROTOCOLS.items():
        assert cls.title and cls.summary and cls.citation
        assert protocols.resolve_params(pid, {}).keys() == {p.name for p in cls.params}
        assert protocols.describe(pid)["params"]


def test_unknown_protocol_and_parameter_are_one_sentence_errors():
    with pytest.raises(ParamError, match="unknown protocol"):
        protocols.get("nope")
    with pytest.raises(ParamError, match="unknown parameter 'kk'"):
        protocols.resolve_params("knn", {"kk": "3"})
    with pytest.raises(ParamError, match="k must be a comma-separated list of whole numbers, got '20,2.5'"):
        protocols.resolve_params("knn", {"k": "20,2.5"})
    with pytest.raises(ParamError, match="costs must be a comma-separated list of numbers"):
        protocols.resolve_params("svm", {"costs": "1,x"})
    assert protocols.resolve_params("linear", {"wd_grid": "0,1e-3"})["wd_grid"] == ["0", "1e-3"]


def test_knn_on_separable_features_is_perfect():
    ctx = separable_context()
    res = protocols.get("knn").run(ctx, protocols.resolve_params("knn", {"k": "5,20"}))
    assert res["top1"] == {"5": 1.0, "20": 1.0}
    assert protocols.get("knn").headline(res) == {"knn@5": 1.0, "knn@20": 1.0}


def test_knn_on_shuffled_labels_is_not_perfect():
    ctx = separable_context()
    train_f, train_y = ctx._feats["train"]
    ctx._feats["train"] = (train_f, train_y[torch.randperm(len(train_y), generator=torch.Generator().manual_seed(0))])
    res = protocols.get("knn").run(ctx, protocols.resolve_params("knn", {"k": "5"}))
    assert res["top1"]["5"] < 0.7


def test_linear_probe_on_separable_features_is_perfect_and_picks_from_the_grid():
    ctx = separable_context(num_classes=6)
    p = protocols.resolve_params("linear", {"wd_grid": "0,0.01,1"})
    res = protocols.get("linear").run(ctx, p)
    assert res["top1"] == 1.0 and res["top5"] == 1.0
    assert res["weight_decay"] in (0.0, 0.01, 1.0)
    assert set(res["val_top1"]) == {"0", "0.01", "1"}


def test_linear_probe_reports_no_top5_with_few_classes():
    res = protocols.get("linear").run(separable_context(num_classes=3), protocols.resolve_params("linear", {"wd_grid": "0"}))
    assert res["top5"] is None and "linear top-5" not in protocols.get("linear").headline(res)


def test_svm_picks_a_cost_by_cross_validation():
    ctx = separable_context()
    res = protocols.get("svm").run(ctx, protocols.resolve_params("svm", {"costs": "0.01,1", "folds": "3"}))
    assert res["accuracy"] == 1.0
    assert res["cost"] in (0.01, 1.0) and set(res["cv_accuracy"]) == {"0.01", "1"}


def test_fewshot_draws_k_distinct_images_per_class_and_never_an_excluded_one():
    labels = np.repeat(np.arange(3), 10)
    rng = np.random.default_rng(0)
    exclude = np.array([0, 1, 10, 11, 20, 21])
    for _ in range(20):
        idx = draw_support(labels, 8, rng, exclude)
        assert len(idx) == len(set(idx.tolist())) == 24
        assert np.bincount(labels[idx]).tolist() == [8, 8, 8]
        assert not set(idx.tolist()) & set(exclude.tolist())


def test_fewshot_never_trains_on_an_image_of_the_test_split(tmp_path):
    train, test = clusters(12, 3, seed=0), clusters(6, 3, seed=1)
    test_images = np.random.default_rng(1).integers(0, 256, (18, 4, 4, 3), dtype=np.uint8)
    train_images = np.random.default_rng(2).integers(0, 256, (36, 4, 4, 3), dtype=np.uint8)
    copied = [0, 13, 30]  # train images that are copies of test images
    train_images[copied] = test_images[[2, 5, 9]]
    assert duplicates_of_test(train_images, test_images).tolist() == copied
    ctx = FeatureContext(train, test, tmp_path, {"train": train_images, "test": test_images})
    p = protocols.resolve_params("fewshot", {"shots": "1,2,11,12", "draws": "3"})
    res = FewShot.run(ctx, p)
    assert res["excluded_duplicates"] == 3
    # 12 per class minus one copy each: 11-shot fits, 12-shot does not
    assert list(res["per_k"]) == ["1", "2", "11"]
    for r in res["per_k"].values():
        assert len(r["accuracies"]) == 3 and r["std"] >= 0 and 0.9 <= r["mean"] <= 1.0


def test_fewshot_logistic_regression_classifier():
    ctx = separable_context()
    res = FewShot.run(ctx, protocols.resolve_params("fewshot", {"shots": "1,4", "classifier": "logreg", "draws": "2"}))
    assert res["per_k"]["4"]["mean"] == 1.0
    assert set(FewShot.headline(res)) == {"1-shot", "4-shot"}


def test_retrieval_precision_and_artifact(tmp_path):
    ctx = separable_context(tmp_path)
    res = protocols.get("retrieval").run(ctx, protocols.resolve_params("retrieval", {"queries": "15", "k": "5"}))
    assert res["precision_at_k"] == 1.0 and res["queries"] == 15
    hits = read_retrieval({"protocol": "retrieval", "results": res})  # what the GUI reads back
    assert hits.neighbours.shape == (15, 5) and hits.similarities.shape == (15, 5)
    assert (hits.neighbour_labels == hits.query_labels[:, None]).all()
    assert (np.diff(hits.similarities, axis=1) <= 1e-6).all()  # best first


def test_embedding_writes_xy_labels_and_indices(tmp_path):
    ctx = separable_context(tmp_path, n_test=12)
    res = protocols.get("embedding").run(ctx, protocols.resolve_params("embedding", {"method": "tsne", "max_points": "40"}))
    assert res["method"] == "tsne" and res["points"] == 40
    assert ctx.saved[0][0] == "embedding"
    points = read_embedding({"protocol": "embedding", "results": res})  # what the GUI reads back
    assert points.xy.shape == (40, 2) and np.isfinite(points.xy).all()
    assert points.labels.shape == (40,) and len(set(points.indices.tolist())) == 40
    assert res["knn5_in_map"] > 0.9  # separable clusters stay apart in the map


def test_stage_names_follow_the_backbone():
    from engine import registry
    from engine.evaluation.protocols.layerwise import stage_names

    resnet = registry.create_backbone("resnet18", {}, image_size=32)
    assert stage_names(resnet, 5) == ["stem", "stage1", "stage2", "stage3", "stage4"]
    vit = registry.create_backbone("vit_tiny", {"depth": 2}, image_size=32)
    assert stage_names(vit, 4) == ["stage1", "stage2", "stage3", "stage4"]
    assert stage_names(SimpleNamespace(stage_names=["a", "b"]), 2) == ["a", "b"]
    assert stage_names(SimpleNamespace(stage_names=["a"]), 2) == ["stage1", "stage2"]
