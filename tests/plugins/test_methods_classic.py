"""The classic pretext methods learn their own task on ``shapes`` (tiny images, a tiny
convnet, one thread, a few seconds each), and their pure parts do what their papers say."""
from __future__ import annotations

from method_harness import mean_metric, train_method


def _rises(history, key, above, window=10):
    start, end = mean_metric(history, key, first=window), mean_metric(history, key, last=window)
    assert end > above, f"{key} ended at {end:.3f} (started {start:.3f}), expected above {above}"
    assert end > start, f"{key} did not rise: {start:.3f} -> {end:.3f}"


def test_rotation_learns_the_four_angles():
    _, h = train_method("rotation", 300, image_size=16, train_size=128, batch_size=16, lr=3e-3)
    _rises(h, "rotation_acc", 0.25 + 0.11)   # chance 1/4


def test_jigsaw_learns_its_permutations():
    _, h = train_method("jigsaw", 100, {"permutations": 10, "hidden": 64}, image_size=32, train_size=128,
                        batch_size=16, lr=3e-3)
    _rises(h, "jigsaw_acc", 0.1 + 0.2)       # chance 1/10


def test_relative_position_learns_where_the_patch_was():
    _, h = train_method("relative_position", 200, {"hidden": 64}, image_size=32, train_size=128,
                        batch_size=32, lr=3e-3)
    _rises(h, "relpos_acc", 0.125 + 0.09)    # chance 1/8


def test_colorization_learns_colours():
    _, h = train_method("colorization", 100, {"bins": 32, "decoder_width": 32}, image_size=16,
                        train_size=128, batch_size=32, lr=3e-3)
    _rises(h, "colorization_acc", 0.15)
    assert mean_metric(h, "loss", last=10) < mean_metric(h, "loss", first=10)


def test_inpainting_error_falls():
    _, h = train_method("inpainting", 80, {"decoder_width": 32}, image_size=16, train_size=128,
                        batch_size=32, lr=3e-3)
    assert mean_metric(h, "inpaint_psnr", last=10) > mean_metric(h, "inpaint_psnr", first=10) + 3.0


def test_exemplar_recognises_its_images():
    _, h = train_method("exemplar", 150, {"exemplars": 64, "crop_min": 0.5}, image_size=16, train_size=64,
                        batch_size=32, lr=3e-3)
    _rises(h, "exemplar_acc", 0.25)          # chance about 1/64


def test_nat_features_move_to_their_targets():
    _, h = train_method("nat", 120, {"capacity": 64, "target_dim": 16, "reassign_every": 2}, image_size=16,
                        train_size=64, batch_size=32, lr=3e-3)
    start, end = mean_metric(h, "nat_cosine", first=10), mean_metric(h, "nat_cosine", last=10)
    assert end > 0.25 and end > start + 0.08, (start, end)   # unrelated directions: cosine about 0


def test_cpc_predicts_the_rows_below():
    # a 4 x 4 grid of 6-px patches keeps it cheap: 16 images x 16 patches = 256 candidates
    _, h = train_method("cpc", 60, {"pred_steps": 2, "context_dim": 32, "patch_frac": 0.375}, image_size=16,
                        train_size=128, batch_size=16, lr=1e-3)
    _rises(h, "cpc_acc", 8 / 256)            # chance 1/256


def test_multitask_trains_both_tasks_on_one_backbone():
    m, h = train_method("multitask", 100, {"tasks": "rotation,inpainting"}, image_size=16, train_size=128,
                        batch_size=16, lr=3e-3)
    assert m.accuracy_key == "rotation_acc"
    assert m.subs["rotation"].backbone is m.backbone is m.subs["inpainting"].backbone
    _rises(h, "rotation_acc", 0.33)
    assert mean_metric(h, "inpaint_psnr", last=10) > mean_metric(h, "inpaint_psnr", first=10) + 1.0
    assert {"rotation_loss", "inpainting_loss"} <= set(h[-1])


def test_supervised_fits_the_labels():
    _, h = train_method("supervised", 100, image_size=16, train_size=128, batch_size=32, lr=3e-3)
    _rises(h, "train_acc", 0.25 + 0.15)      # 4 classes
