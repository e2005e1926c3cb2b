"""The modern joint-embedding methods and MAE learn on ``shapes`` (tiny images, tiny nets,
one thread, a few seconds each); momentum targets move without gradients; SwAV's
prototypes stay frozen at first; MAE needs a ViT and reconstructs images.

Non-contrastive methods barely change in-batch ``contrastive_acc`` in a hundred steps, so
their tests check their own objective improves while their collapse monitor holds."""
from __future__ import annotations

import math

import pytest
import torch
from method_harness import build_method, mean_metric, shapes_split, train_method

from engine import registry
from engine.params import ParamError

EASY_VIEWS = {"crop_min": 0.3, "jitter_strength": 0.4}
FAST_EMA = {"base_momentum": 0.9, "momentum_schedule": "constant"}  # a hundred steps must be enough
SMALL = {
    "moco": dict(queue_size=256, proj_hidden=64, proj_dim=32, **FAST_EMA, **EASY_VIEWS),
    "byol": dict(proj_hidden=64, proj_dim=32, **FAST_EMA, **EASY_VIEWS),
    "simsiam": dict(proj_hidden=64, proj_dim=64, pred_hidden=16, **EASY_VIEWS),
    "barlow_twins": dict(proj_hidden=64, proj_dim=64, **EASY_VIEWS),
    "vicreg": dict(proj_hidden=64, proj_dim=64, **EASY_VIEWS),
    "swav": dict(proj_hidden=64, proj_dim=32, num_prototypes=16, num_local_crops=2, freeze_prototypes_steps=10,
                 queue_size=128, **EASY_VIEWS),
    "dino": dict(head_hidden=64, bottleneck=32, out_dim=64, num_local_crops=2, **FAST_EMA, **EASY_VIEWS),
}
CHANCE = 1 / 63  # contrastive_acc / retrieval_acc with batches of 32: 2N - 1 candidates


def _train(method_id, steps=100):
    return train_method(method_id, steps, SMALL[method_id], batch_size=32, lr=3e-3)


def _start_end(history, key, window=10):
    return mean_metric(history, key, first=window), mean_metric(history, key, last=window)


def test_moco_trains_well_above_chance():
    _, h = _train("moco")
    # the key first among 1 + K candidates (K = the queue): chance 1 / (K + 1); early on the
    # queue holds random vectors, easy to beat, so the figure is read once the queue is real keys
    end = mean_metric(h, "contrastive_acc", last=10)
    assert end > 20 / (SMALL["moco"]["queue_size"] + 1), f"contrastive_acc {end:.3f}"
    assert 0.9 == h[-1]["momentum"]


@pytest.mark.parametrize("exclude_own_keys", [True, False])
def test_moco_masks_a_querys_own_image_out_of_its_queued_negatives(monkeypatch, exclude_own_keys):
    """A queue longer than an epoch holds keys of the query's own image; they are not negatives."""
    import plugins.methods.moco as moco
    seen, real = [], moco.moco_loss
    monkeypatch.setattr(moco, "moco_loss", lambda q, k, queue, t, exclude=None: seen.append(exclude) or
                        real(q, k, queue, t, exclude))
    images = shapes_split()[0]
    method = build_method("moco", dict(SMALL["moco"], queue_size=64, exclude_own_keys=exclude_own_keys))
    method.training_step(images[:8])  # queues two keys (one per view) of each of these 8 images
    method.training_step(torch.cat([images[:4], images[8:12]]))
    if not exclude_own_keys:
        assert seen[-1] is None
        return
    exclude = seen[-1]
    assert exclude.shape == (8, 64)
    assert exclude[:4].sum(1).tolist() == [2, 2, 2, 2]  # the earlier keys of the same image
    assert not exclude[4:].any()  # images not seen before have nothing masked


def test_byol_prediction_agreement_rises_without_collapse():
    _, h = _train("byol")
    start, end = _start_end(h, "cosine")
    assert end > start + 0.2, f"cosine {start:.3f} -> {end:.3f}"
    assert mean_metric(h, "retrieval_acc", last=10) > 3 * CHANCE  # collapsed outputs sit at chance


def test_simsiam_loss_falls_and_outputs_stay_spread():
    method, h = _train("simsiam")
    start, end = _start_end(h, "loss")
    assert end < start - 0.2, f"loss {start:.3f} -> {end:.3f}"
    spread = 1 / math.sqrt(64)  # output_std of unit vectors spread over 64 dimensions
    assert mean_metric(h, "output_std", last=10) > 0.5 * spread


def test_barlow_twins_invariance_term_falls():
    _, h = _train("barlow_twins")
    start, end = _start_end(h, "invariance")
    assert end < 0.5 * start, f"invariance {start:.2f} -> {end:.2f}"
    assert mean_metric(h, "loss", last=10) < mean_metric(h, "loss", first=10)
    assert mean_metric(h, "retrieval_acc", last=10) > 3 * CHANCE


def test_vicreg_loss_falls_without_losing_variance():
    _, h = _train("vicreg")
    start, end = _start_end(h, "loss")
    assert end < 0.97 * start, f"loss {start:.2f} -> {end:.2f}"
    assert mean_metric(h, "var_loss", last=10) <= mean_metric(h, "var_loss", first=10)
    assert mean_metric(h, "sim_loss", last=10) < mean_metric(h, "sim_loss", first=10)


def test_swav_views_agree_on_their_prototypes():
    _, h = _train("swav")
    start, end = _start_end(h, "code_agreement")
    assert end > start + 0.1, f"code_agreement {start:.3f} -> {end:.3f}"
    assert mean_metric(h, "retrieval_acc", last=10) > 3 * CHANCE


def test_dino_student_catches_up_with_the_teacher():
    _, h = _train("dino")
    start, end = _start_end(h, "kl_divergence")
    assert end < 0.5 * start, f"kl_divergence {start:.3f} -> {end:.3f}"
    assert mean_metric(h, "teacher_entropy", last=10) < math.log(64) - 0.2  # not collapsed to uniform
    assert h[-1]["teacher_temp"] == pytest.approx(0.07)


@pytest.mark.parametrize("method_id,target_attr", [("moco", "momentum"), ("byol", "momentum"), ("dino", "teacher")])
def test_momentum_targets_move_and_take_no_gradient(method_id, target_attr):
    torch.set_num_threads(1)
    method = build_method(method_id, SMALL[method_id])
    pair = getattr(method, target_attr)
    target = pair["backbone"]
    start = [p.detach().clone() for p in target.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(start, method.backbone.parameters()))
    images, _, _ = shapes_split()
    trainable = [p for p in method.parameters() if p.requires_grad]
    assert not any(p is q for p in trainable for q in pair.target.parameters())
    opt = torch.optim.SGD(trainable, lr=0.1)
    for step in range(3):
        out = method.training_step(images[:16])
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        method.on_step_end((step + 1) / 3)
        assert all(p.grad is None for p in pair.target.parameters())
    moved = [not torch.equal(a, b) for a, b in zip(start, target.parameters())]
    assert sum(moved) > len(moved) // 2
    gap = [(o - t).abs().sum() for o, t in zip(method.backbone.parameters(), target.parameters())]
    assert sum(g.item() for g in gap) > 0  # an EMA, not a copy
    assert "momentum" in out


def test_cosine_momentum_reaches_one_at_the_end_of_training():
    method = build_method("byol", {"proj_hidden": 32, "proj_dim": 16, "base_momentum": 0.99})
    method.on_step_end(0.0)
    assert method.momentum.momentum == pytest.approx(0.99)
    method.on_step_end(1.0)
    assert method.momentum.momentum == pytest.approx(1.0)


def test_swav_prototypes_are_frozen_first_then_learn_and_stay_unit():
    torch.set_num_threads(1)
    method = build_method("swav", {**SMALL["swav"], "freeze_prototypes_steps": 2, "queue_size": 0})
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.5)
    images, _, _ = shapes_split()
    grads = []
    for step in range(3):
        out = method.training_step(images[:16])
        opt.zero_grad()
        out["loss"].backward()
        grads.append(method.prototypes.weight.grad)
        opt.step()
        method.on_step_end((step + 1) / 3)
    assert grads[0] is None and grads[1] is None and grads[2] is not None
    method.training_step(images[:16])
    assert torch.allclose(method.prototypes.weight.norm(dim=1), torch.ones(16), atol=1e-5)


def test_swav_queue_fills_and_joins_the_assignment():
    method = build_method("swav", {**SMALL["swav"], "queue_size": 32})
    images, _, _ = shapes_split()
    method.training_step(images[:16])
    assert not method.queues[0].full
    method.training_step(images[16:32])
    assert method.queues[0].full and method.queues[1].full
    out = method.training_step(images[:16])  # assignments now over 16 + 32 embeddings
    assert torch.isfinite(out["loss"])


def test_multicrop_previews_show_global_and_local_views():
    method = build_method("dino", SMALL["dino"])
    images, _, _ = shapes_split()
    preview = method.input_preview(images[:4])
    assert set(preview) == {"original", "global 1", "global 2", "local 1", "local 2"}
    assert preview["local 1"].shape == (4, 3, 8, 8)
    assert all(0 <= v.min() and v.max() <= 1 for v in preview.values())


# --- MAE --------------------------------------------------------------------------------------

def _mae(params=None, image_size=16):
    torch.manual_seed(0)
    registry.discover()
    vit = registry.create_backbone("vit_tiny", {"depth": 2}, image_size)
    method = registry.create_method("mae", vit, {"decoder_dim": 64, "decoder_depth": 1, **(params or {})}, image_size)
    method.set_seed(0)
    return method


def test_mae_needs_a_vit_backbone():
    registry.discover()
    conv = registry.create_backbone("convnet", {"width": 8}, 16)
    with pytest.raises(ParamError, match="ViT backbone"):
        registry.create_method("mae", conv, {}, 16)


def test_mae_reconstruction_error_falls():
    torch.set_num_threads(1)
    method = _mae()
    images, _, _ = shapes_split()
    opt = torch.optim.Adam(method.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    history = []
    for step in range(50):
        out = method.training_step(images[torch.randint(len(images), (32,), generator=gen)])
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        history.append(out["recon_loss"])
    start, end = sum(history[:5]) / 5, sum(history[-5:]) / 5
    assert end < 0.7 * start, f"recon_loss {start:.3f} -> {end:.3f}"


def test_mae_loss_ignores_visible_patches():
    method = _mae()
    images, _, _ = shapes_split()
    from engine.ssl.augment import normalize, to_float
    from plugins.methods.mae import mae_loss
    pred, target, mask = method._predict(normalize(to_float(images[:8])))
    assert mask.shape == (8, 16) and mask.sum(1).tolist() == [12.0] * 8  # 75 % of 16 patches hidden
    loss, _ = mae_loss(pred, target, mask)
    visible = (mask == 0).unsqueeze(-1)
    changed = torch.where(visible, pred + 5 * torch.randn_like(pred), pred)
    assert torch.allclose(mae_loss(changed, target, mask)[0], loss)
    hidden_changed = torch.where(~visible, pred + 1.0, pred)
    assert not torch.allclose(mae_loss(hidden_changed, target, mask)[0], loss)


def test_mae_reconstruction_is_an_image_with_visible_patches_pasted_back():
    method = _mae({"norm_pix_loss": False})
    images, _, _ = shapes_split()
    x = images[:4]
    recon = method.predict_reconstruction(x)
    assert recon.shape == (4, 3, 16, 16) and recon.dtype == torch.float32
    assert 0 <= recon.min() and recon.max() <= 1
    original = x.float() / 255
    exact = ((recon - original).abs() < 1e-4).view(4, 3, 4, 4, 4, 4).permute(0, 2, 4, 1, 3, 5)
    whole_patches = exact.reshape(4, 16, -1).all(-1).sum(1)
    assert (whole_patches >= 4).all()  # the 4 visible patches of each image are the original pixels
    preview = method.input_preview(x)
    assert set(preview) == {"original", "masked input", "reconstruction"}
    assert all(v.shape == (4, 3, 16, 16) for v in preview.values())
