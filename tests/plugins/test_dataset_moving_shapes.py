"""The built-in moving_shapes clips: seeded and deterministic, cached as (N, T, H, W, 3)
records, two balanced labellings, objects that really move, and readable as frames."""
import numpy as np

from engine import registry
from engine.capabilities import SampleKind
from engine.data.frames import as_input
from plugins.datasets import moving_shapes

BASE = {"image_size": 16, "frames": 4, "train_size": 32, "test_size": 16}


def _dataset(path, **params):
    return registry.create_dataset("moving_shapes", {**BASE, **params}, path)


def test_clips_are_seeded_cached_records_with_two_labellings(tmp_path):
    ds = _dataset(tmp_path / "a")
    assert ds.sample_kind == SampleKind.CLIP
    train = ds.split("train")
    assert isinstance(train.images, np.memmap) and train.images.shape == (32, 4, 16, 16, 3)
    motion = train.targets["motion_labels"]
    assert set(motion.tolist()) == set(range(len(moving_shapes.MOTIONS)))
    assert set(train.labels.tolist()) == set(range(len(moving_shapes.SHAPES)))
    again = _dataset(tmp_path / "b").split("train")
    assert np.array_equal(again.images, train.images) and np.array_equal(again.targets["motion_labels"], motion)
    assert not np.array_equal(_dataset(tmp_path / "c", seed=1).split("train").images, train.images)
    unlabeled = ds.split("unlabeled")
    assert unlabeled.labels is None and np.array_equal(unlabeled.images, train.images)


def test_a_resumed_build_draws_the_same_clips(tmp_path):
    ds = _dataset(tmp_path)
    whole = np.concatenate([c.samples for c in ds.iter_split("test")])
    tail = np.concatenate([c.samples for c in ds.iter_split("test", start=5)])
    assert np.array_equal(tail, whole[5:])


def test_objects_move_and_bounce_inside_the_frame():
    rng = np.random.default_rng(0)
    clip = moving_shapes.render_clip(0, 0, rng, 32, 8, 8.0, 0.5, num_objects=2)
    assert clip.shape == (8, 32, 32, 3)
    assert np.abs(np.diff(clip.astype(int), axis=0)).mean() > 0.5  # something changes frame to frame
    still = moving_shapes.render_clip(0, 0, np.random.default_rng(0), 32, 4, 8.0, 0.0)
    assert np.array_equal(still[0], still[-1])
    m = moving_shapes.Mover("square", (0, 0, 0), 0.9, 0.5, 0.2, 0.0, 1.0, 0.0, 0.0, 0.0)
    m.step(0.1)
    assert m.x <= 0.8 and m.vx < 0  # bounced off the right border


def test_image_consumers_see_frames_with_repeated_labels(tmp_path):
    frames = as_input(_dataset(tmp_path), SampleKind.IMAGE).split("train")
    assert frames.images.shape == (32 * 4, 16, 16, 3)
    assert frames.labels[:4].tolist() == [frames.labels[0]] * 4


def test_an_image_method_pretrains_on_the_frames(home):
    """SimCLR on moving_shapes trains on single frames, its kNN monitor on frames too."""
    from engine.runs.worker import execute
    from engine.store.database import Store
    from engine.training.config import build_config

    config = build_config("moving_shapes", "simclr", "convnet",
                          sets={**{k: str(v) for k, v in BASE.items()}, "width": "8"},
                          train={"epochs": 1, "batch_size": 32, "knn_every": 1})
    store = Store(home)
    run_id = store.create_run(config)
    assert execute(home, run_id) == "completed"
    assert store.get_run(run_id).total_steps == 32 * 4 // 32  # frames, not clips
    assert store.metric_series(run_id, "knn_acc")[1]
    store.close()
