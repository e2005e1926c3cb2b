"""The pure loss functions of the modern methods: documented shapes, the values their papers
define, and the properties that make them work (balanced Sinkhorn codes, masked-only MAE)."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from engine.ssl.metrics import ranked_first
from plugins.methods.barlow_twins import barlow_twins_loss
from plugins.methods.byol import byol_loss
from plugins.methods.dino import dino_loss, teacher_temperature
from plugins.methods.mae import mae_loss, random_masking
from plugins.methods.moco import moco_logits, moco_loss
from plugins.methods.simsiam import simsiam_loss
from plugins.methods.swav import sinkhorn_knopp, swav_loss
from plugins.methods.vicreg import vicreg_loss

torch.manual_seed(0)


@pytest.mark.parametrize("fn,shapes", [
    (moco_loss, ["q: (N, D)", "k: (N, D)", "queue: (K, D)"]),
    (byol_loss, ["p1, p2: (N, D)", "t1, t2: (N, D)"]),
    (simsiam_loss, ["p1, p2: (N, D)", "z1, z2: (N, D)"]),
    (barlow_twins_loss, ["z1, z2: (N, D)", "(D, D)"]),
    (vicreg_loss, ["z1, z2: (N, D)"]),
    (swav_loss, ["scores: (V, N, K)", "(2, N, K)"]),
    (sinkhorn_knopp, ["scores: (B, K)", "Returns (B, K)"]),
    (dino_loss, ["student: (V, N, K)", "teacher: (2, N, K)", "center: (K,)"]),
    (mae_loss, ["pred, target: (N, L, P)", "mask: (N, L)"]),
])
def test_docstrings_state_the_shapes_they_are_called_with(fn, shapes):
    doc = " ".join(fn.__doc__.split())
    for s in shapes:
        assert s in doc, f"{fn.__name__} docstring lacks {s!r}"


def test_moco_loss_prefers_the_positive_key():
    q = torch.randn(8, 16)
    queue = F.normalize(torch.randn(64, 16), dim=1)
    k_good, k_bad = q + 0.01 * torch.randn(8, 16), torch.randn(8, 16)
    good, _ = moco_loss(q, k_good, queue)
    bad, _ = moco_loss(q, k_bad, queue)
    acc_good, acc_bad = ranked_first(moco_logits(q, k_good, queue), 0), ranked_first(moco_logits(q, k_bad, queue), 0)
    assert good < bad and acc_good == 1.0 and acc_bad < 1.0
    assert good.shape == ()


def test_moco_loss_ignores_excluded_keys():
    q = F.normalize(torch.randn(4, 16), dim=1)
    k = F.normalize(torch.randn(4, 16), dim=1)
    queue = torch.cat([q, F.normalize(torch.randn(8, 16), dim=1)])  # near-copies of the queries
    exclude = torch.zeros(4, 12, dtype=torch.bool)
    exclude[:, :4] = True
    with_twin, _ = moco_loss(q, k, queue, exclude=None)
    without, _ = moco_loss(q, k, queue, exclude=exclude)
    reference, _ = moco_loss(q, k, queue[4:])  # the queue without them
    assert without < with_twin and torch.allclose(without, reference)


def test_byol_and_simsiam_losses_are_minimal_for_aligned_predictions():
    z = torch.randn(8, 16)
    loss, m = byol_loss(z, z, z, z)
    assert loss.item() == pytest.approx(0.0, abs=1e-5) and m["cosine"] == pytest.approx(1.0)
    assert byol_loss(z, z, -z, -z)[0].item() == pytest.approx(8.0, abs=1e-4)
    loss, m = simsiam_loss(z, z, z, z)
    assert loss.item() == pytest.approx(-1.0, abs=1e-5)
    assert m["output_std"] > 0.1
    collapsed = torch.ones(8, 16)
    assert simsiam_loss(collapsed, collapsed, collapsed, collapsed)[1]["output_std"] == pytest.approx(0.0, abs=1e-6)


def test_simsiam_stops_the_gradient_of_the_targets():
    p, z = torch.randn(4, 8, requires_grad=True), torch.randn(4, 8, requires_grad=True)
    simsiam_loss(p, p, z, z)[0].backward()
    assert z.grad is None and p.grad is not None


def test_barlow_twins_loss_is_zero_for_decorrelated_identical_views():
    z = torch.linalg.qr(torch.randn(64, 8))[0] * 8  # orthogonal columns: C = I after standardising
    z = z - z.mean(0)
    z = torch.linalg.qr(z)[0]
    loss, m = barlow_twins_loss(z, z, lambda_=5e-3)
    assert m["invariance"] == pytest.approx(0.0, abs=1e-3)
    shuffled = z[torch.randperm(64)]
    assert barlow_twins_loss(z, shuffled)[0] > loss + 1.0


def test_vicreg_terms():
    z = torch.randn(256, 32) * 2
    loss, m = vicreg_loss(z, z)
    assert m["sim_loss"] == 0.0 and m["var_loss"] < 0.05
    collapsed = torch.zeros(256, 32)
    _, mc = vicreg_loss(collapsed, collapsed)
    assert mc["var_loss"] == pytest.approx(0.99, abs=0.01) and mc["cov_loss"] == 0.0
    w, mw = vicreg_loss(z, z + 1, sim_weight=2.0, var_weight=0.0, cov_weight=0.0)
    assert mw["sim_loss"] == pytest.approx(1.0) and w.item() == pytest.approx(2.0)


def test_sinkhorn_codes_are_balanced_over_prototypes():
    # seeded: the scores must not depend on test order (these bounds hold for seeds 0..199)
    gen = torch.Generator().manual_seed(0)
    scores = F.normalize(torch.randn(64, 8, generator=gen), dim=1) @ F.normalize(torch.randn(8, 8, generator=gen), dim=1).T
    scores[:, 0] += 0.5  # one prototype is everyone's favourite: Sinkhorn must spread the mass
    q = sinkhorn_knopp(scores, epsilon=0.05, iterations=3)
    assert q.shape == (64, 8)
    assert torch.allclose(q.sum(1), torch.ones(64), atol=1e-5)
    cols, naive = q.sum(0), F.softmax(scores / 0.05, dim=1).sum(0)
    assert cols.max() / cols.min() < 0.5 * naive.max() / naive.min()  # SwAV's 3 iterations: far more even
    for iterations, tol in ((10, 0.3), (100, 1e-3)):  # column sums B/K = 8 within tolerance
        cols = sinkhorn_knopp(scores, 0.05, iterations).sum(0)
        assert torch.allclose(cols, torch.full((8,), 64 / 8), rtol=tol), (iterations, cols)


def test_swav_loss_rewards_predicting_the_other_views_codes():
    scores = torch.randn(4, 16, 8)
    codes = torch.stack([F.one_hot(scores[i].argmax(1), 8).float() for i in range(2)])
    agree = torch.stack([scores[1], scores[0], scores[0], scores[1]]) * 10
    loss_agree, m = swav_loss(agree, codes)
    loss_random, _ = swav_loss(torch.randn(4, 16, 8) * 10, codes)
    assert loss_agree < loss_random and 0 <= m["code_agreement"] <= 1


def test_dino_loss_centres_and_sharpens_the_teacher():
    teacher = torch.randn(1, 16, 32).expand(2, -1, -1)  # both global views give the same teacher output
    student = (teacher[:1] / 0.04 * 0.1).expand(3, -1, -1)  # every student view reproduces its target
    center = torch.zeros(32)
    matched, m = dino_loss(student, teacher, center, 0.1, 0.04)
    assert m["kl_divergence"] < 0.05 and m["teacher_entropy"] < math.log(32)
    other, _ = dino_loss(torch.randn(3, 16, 32), teacher, center, 0.1, 0.04)
    assert matched < other
    _, hot = dino_loss(student, teacher, center, 0.1, 1.0)
    assert hot["teacher_entropy"] > m["teacher_entropy"]  # a warmer teacher is less sharp
    assert teacher_temperature(0.0, 0.04, 0.07, 0.2) == pytest.approx(0.04)
    assert teacher_temperature(0.1, 0.04, 0.07, 0.2) == pytest.approx(0.055)
    assert teacher_temperature(0.5, 0.04, 0.07, 0.2) == pytest.approx(0.07)


def test_mae_loss_counts_masked_patches_only():
    pred, target = torch.randn(2, 6, 12), torch.randn(2, 6, 12)
    mask = torch.tensor([[1, 1, 0, 0, 1, 0], [0, 1, 1, 1, 0, 0]], dtype=torch.float32)
    loss, m = mae_loss(pred, target, mask, norm_pix=False)
    manual = ((pred - target) ** 2).mean(-1)[mask.bool()].mean()
    assert loss.item() == pytest.approx(manual.item()) and m["recon_loss"] == pytest.approx(manual.item())
    pred2 = pred.clone()
    pred2[mask == 0] = 100.0
    assert mae_loss(pred2, target, mask, norm_pix=False)[0].item() == pytest.approx(loss.item())
    keep, restore, rand_mask = random_masking(3, 16, 0.75, torch.Generator().manual_seed(0))
    assert keep.shape == (3, 4) and restore.shape == (3, 16)
    assert (rand_mask.gather(1, keep) == 0).all() and rand_mask.sum().item() == 36
