"""Evaluation on clips: frame-level kNN and linear probes through frame features, a clip-level
probe on the motion labels, and frame retrieval kept as an artifact the Evaluate view draws."""
from __future__ import annotations

import pytest

from engine.evaluation.artifacts import neighbours_with_images
from engine.evaluation.evaluate import evaluate
from engine.evaluation.protocols.clip_readout import ClipReadout
from engine.evaluation.tables import comparison_table
from engine.params import ParamError
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config

FRAMES = 4
DATA = {"image_size": "16", "frames": str(FRAMES), "train_size": "32", "test_size": "16", "width": "8"}


def _trained(home, method, backbone, **sets):
    config = build_config("moving_shapes", method, backbone, sets={**DATA, **sets}, preset="quick",
                          train={"epochs": 1, "batch_size": 16, "knn_every": 0})
    store = Store(home)
    run_id = store.create_run(config)
    store.close()
    assert execute(home, run_id) == "completed"
    return run_id


@pytest.fixture
def clip_run(home):
    return _trained(home, "slow_features", "r2plus1d")


def test_frame_and_clip_level_readouts_of_a_clip_backbone(home, clip_run):
    frames = evaluate(home, clip_run, "knn", {"k": "5"})
    assert frames["results"]["train_size"] == 32 * FRAMES and frames["params"]["level"] == "frame"
    clips = evaluate(home, clip_run, "linear", {"max_iter": "20"}, readout=ClipReadout.of("clip", "motion_labels"))
    assert clips["results"]["train_size"] == 32 and clips["params"]["target"] == "motion_labels"
    assert 0.0 <= clips["results"]["top1"] <= 1.0
    columns, _ = comparison_table(home)
    assert "knn@5 (frame)" in columns and "linear top-1 (clip, motion_labels)" in columns


def test_frame_retrieval_is_an_artifact_of_frames(home, clip_run):
    row = evaluate(home, clip_run, "retrieval", {"queries": "6", "k": "3"})
    grid = neighbours_with_images(home, [("run", row)], queries=4, top=3)
    assert grid.queries.shape == (4, 16, 16, 3)            # query frames
    assert grid.runs[0].images.shape == (4, 3, 16, 16, 3)  # their top-3 frames


def test_an_image_backbone_reads_frames_and_pools_them_per_clip(home):
    run_id = _trained(home, "rotation", "convnet")
    frames = evaluate(home, run_id, "knn", {"k": "5"})
    assert frames["results"]["train_size"] == 32 * FRAMES
    clips = evaluate(home, run_id, "knn", {"k": "5"}, readout=ClipReadout.of("clip"))
    assert clips["results"]["train_size"] == 32
    layers = evaluate(home, run_id, "layerwise", {"max_iter": "10"})  # frames are images: every protocol runs
    assert layers["results"]


def test_bad_readouts_are_one_sentence(home, clip_run):
    with pytest.raises(ParamError, match="no labelling 'colour'"):
        evaluate(home, clip_run, "knn", readout=ClipReadout.of("frame", "colour"))
    with pytest.raises(ParamError, match="unknown feature level"):
        ClipReadout.of("video")


def test_previews_of_clips_come_from_the_engine(home):
    from engine import registry
    from engine.data.preview import data_preview
    from engine.ssl.input_preview import augmentation_preview

    params = registry.resolve_params("dataset", "moving_shapes", {k: v for k, v in DATA.items() if k != "width"})
    sample = data_preview(home, "moving_shapes", params, n=5)
    assert sample.images.shape == (5, 16, 16, 3) and sample.clips.shape == (5, FRAMES, 16, 16, 3)
    assert sample.info["sample_kind"] == "clip" and sample.info["frames"] == FRAMES
    for method, backbone in (("slow_steady", "r2plus1d"), ("simclr", "convnet")):
        config = {"data": {"id": "moving_shapes", "params": params},
                  "backbone": {"id": backbone, "params": registry.resolve_params("backbone", backbone, {"width": "8"})},
                  "method": {"id": method, "params": registry.resolve_params("method", method, {})}}
        views = augmentation_preview(home, config, 3)
        assert views and all(v.ndim == 4 and v.shape[0] == 3 and v.shape[-1] == 3 for v in views.values())
    assert views["original"].shape[1:3] == (16, 16)  # the image method sees single frames
