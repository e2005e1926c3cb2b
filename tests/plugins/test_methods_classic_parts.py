"""The pure parts of the classic pretext methods: permutation sets, Lab colour, ab bins,
Hungarian re-assignment, pixel-hash ids, patch cutting, masks, the GAN gradient split,
CPC causality, and what every method shows and embeds."""
from __future__ import annotations

import pytest
import torch
from method_harness import build_method, shapes_split

from engine.params import ParamError
from engine.ssl.augment import denormalize
from engine.ssl.image_ids import image_ids
from engine.ssl.lab_color import lab_to_rgb, rgb_to_lab
from engine.ssl.patches import crop_patches, grid_origins, standardize
from engine.ssl.sobel import sobel
from plugins.methods.colorization import ab_bins, rebalance_weights, soft_encode
from plugins.methods.cpc import RowCausalContext, patch_grid
from plugins.methods.inpainting import _discriminator, adversarial_terms, square_masks
from plugins.methods.jigsaw import (
    hamming_permutations,
    min_hamming_distance,
    shuffle_tiles,
)
from plugins.methods.nat import reassign, sphere_targets
from plugins.methods.rotation import rotate_batch

CLASSIC = ("rotation", "jigsaw", "relative_position", "colorization", "inpainting", "exemplar", "nat", "cpc",
           "multitask", "supervised")


def test_permutation_set_is_deterministic_and_far_apart():
    perms = hamming_permutations(100, seed=3, selection="min")
    assert perms.shape == (100, 9)
    assert torch.equal(hamming_permutations.__wrapped__(30, seed=3, selection="min"), perms[:30])   # not only the cache
    assert not torch.equal(hamming_permutations(30, seed=4, selection="min"), perms[:30])
    assert all(sorted(row.tolist()) == list(range(9)) for row in perms)
    assert min_hamming_distance(perms) >= 6
    rand = torch.stack([torch.randperm(9, generator=torch.Generator().manual_seed(i)) for i in range(100)])
    assert min_hamming_distance(rand) < min_hamming_distance(perms)   # random sets are much closer
    assert min_hamming_distance(hamming_permutations(10, selection="min")) >= 8


def test_the_default_permutation_set_is_algorithm_1():
    """Noroozi & Favaro (2016), Algorithm 1: each next permutation maximises the summed
    Hamming distance to those chosen so far, brute-forced here over all 9! candidates."""
    import itertools

    perms = hamming_permutations(12, seed=1)
    every = torch.tensor(list(itertools.permutations(range(9))))
    for i in range(1, len(perms)):
        summed = sum((every != perms[j]).sum(1) for j in range(i))
        mine = sum(int((perms[i] != perms[j]).sum()) for j in range(i))
        assert mine == int(summed.max()), i
    assert len({tuple(p.tolist()) for p in perms}) == len(perms)


def test_shuffled_tiles_follow_the_permutation():
    tiles = torch.arange(2 * 9).float().view(2, 9, 1, 1, 1).expand(2, 9, 3, 2, 2)
    perms = hamming_permutations(10)
    out = shuffle_tiles(tiles, perms, torch.tensor([0, 7]))
    assert out[0, :, 0, 0, 0].tolist() == perms[0].float().tolist()
    assert out[1, :, 0, 0, 0].tolist() == (perms[7] + 9).float().tolist()


def test_lab_round_trip_and_reference_colours():
    rgb = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(lab_to_rgb(rgb_to_lab(rgb)), rgb, atol=1e-4)
    white = rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten()
    red = rgb_to_lab(torch.tensor([1.0, 0, 0]).view(1, 3, 1, 1)).flatten()
    assert torch.allclose(white, torch.tensor([100.0, 0, 0]), atol=0.05)
    assert torch.allclose(red, torch.tensor([53.24, 80.09, 67.20]), atol=0.1)


def test_ab_bins_are_in_gamut_and_about_as_many_as_asked():
    fine, step = ab_bins(1000)
    assert step == 10.0 and 200 < len(fine) < 320
    for q in (16, 64, 100):
        bins, step = ab_bins(q)
        assert abs(len(bins) - q) <= max(2, q // 20) and step > 10
    assert (fine.abs() <= 110).all()


def test_soft_encoding_is_a_distribution_peaked_on_the_nearest_bin():
    bins, step = ab_bins(64)
    ab = (torch.rand(2, 2, 3, 3, generator=torch.Generator().manual_seed(1)) - 0.5) * 100
    soft, hard = soft_encode(ab, bins, 5, 0.5 * step)
    assert torch.allclose(soft.sum(1), torch.ones(2, 3, 3))
    nearest = torch.cdist(ab.permute(0, 2, 3, 1).reshape(-1, 2), bins).argmin(1).view(2, 3, 3)
    assert torch.equal(hard, nearest) and torch.equal(soft.argmax(1), hard)


def test_rebalancing_favours_rare_colours_with_unit_mean():
    prior = torch.tensor([0.7, 0.2, 0.09, 0.01])
    w = rebalance_weights(prior, 0.5)
    assert torch.isclose((prior * w).sum(), torch.tensor(1.0))
    assert (w[1:] > w[:-1]).all()


def test_hungarian_reassignment_lowers_the_cost():
    feats = sphere_targets(16, 8, seed=1)
    targets = sphere_targets(16, 8, seed=2)
    perm = reassign(feats, targets)
    assert sorted(perm.tolist()) == list(range(16))
    before = ((feats - targets) ** 2).sum()
    after = ((feats - targets[perm]) ** 2).sum()
    assert after < before
    assert torch.equal(reassign(targets[perm], targets[perm]), torch.arange(16))   # already optimal


def test_image_ids_depend_on_pixels_only():
    images, _, _ = shapes_split(16, 128, 4)
    ids = image_ids(images, 1000)
    assert torch.equal(ids[5:9], image_ids(images[5:9].clone(), 1000))
    assert ids.min() >= 0 and ids.max() < 1000
    assert len(set(ids.tolist())) > 110   # 128 images in 1000 slots: few collisions


def test_grid_crops_match_slicing():
    x = torch.rand(2, 3, 32, 32)
    tops, lefts = grid_origins(2, 3, 32, 7, torch.Generator().manual_seed(0))
    cells = torch.arange(9)
    assert ((tops >= 1 + (cells // 3) * 10) & (tops + 7 <= 1 + (cells // 3 + 1) * 10)).all()
    patches = crop_patches(x, tops, lefts, 7)
    t, left = int(tops[1, 5]), int(lefts[1, 5])
    assert torch.equal(patches[1, 5], x[1, :, t:t + 7, left:left + 7])
    z = standardize(patches)
    assert torch.allclose(z.mean(dim=(-2, -1)), torch.zeros(2, 9, 3), atol=1e-5)


def test_rotations_are_the_four_quarter_turns():
    x = torch.arange(16.0).view(1, 1, 4, 4)
    views, labels = rotate_batch(x)
    assert labels.tolist() == [0, 1, 2, 3]
    assert torch.equal(views[2], x[0].flip(1).flip(2))
    assert torch.equal(torch.rot90(views[1], -1, (1, 2)), x[0])


def test_masks_cover_what_they_promise():
    centre = square_masks(2, 16, "center", 0.5, 4, None)
    assert centre.sum().item() == 2 * 64 and centre[0, 0, 4:12, 4:12].all()
    blocks = square_masks(8, 32, "blocks", 0.5, 4, torch.Generator().manual_seed(0))
    per_image = blocks.sum(dim=(1, 2, 3))
    assert (per_image >= 64).all() and (per_image <= 4 * 64).all()


def test_adversarial_terms_train_each_side_on_its_own_loss():
    disc = _discriminator(8)
    gen_out = torch.rand(4, 3, 16, 16, requires_grad=True)
    g_loss, d_loss = adversarial_terms(disc, torch.rand(4, 3, 16, 16), gen_out * 1.0)
    g_loss.backward(retain_graph=True)
    assert gen_out.grad.abs().sum() > 0
    assert all(p.grad is None for p in disc.parameters())
    gen_out.grad = None
    d_loss.backward()
    assert gen_out.grad is None
    assert any(p.grad.abs().sum() > 0 for p in disc.parameters())


def test_cpc_context_never_looks_down():
    ctx = RowCausalContext(4, 6, 2)
    z = torch.randn(1, 4, 5, 5)
    changed = z.clone()
    changed[:, :, 3] += 1.0
    a, b = ctx(z), ctx(changed)
    assert torch.allclose(a[:, :, :3], b[:, :, :3]) and not torch.allclose(a[:, :, 3:], b[:, :, 3:])
    assert patch_grid(torch.rand(2, 3, 32, 32), 8, 4).shape == (2, 7, 7, 3, 8, 8)


def test_cpc_greys_patches_one_by_one():
    images, _, _ = shapes_split(32, 24, 4)

    def grey_patches(gray_p):
        pats = build_method("cpc", {"gray_p": gray_p}, 32).patches(images[:4])
        pixels = denormalize(pats.reshape(-1, *pats.shape[3:]))
        return ((pixels[:, 0] - pixels[:, 1]).abs().amax((-1, -2)) < 1e-5).view(pats.shape[:3])

    assert grey_patches(1.0).all() and not grey_patches(0.0).any()
    some = grey_patches(0.5)
    assert some.any(1).any(1).all() and not some.all(1).all(1).any()   # per patch: every image has both kinds


@pytest.mark.parametrize("method_id", CLASSIC)
def test_previews_and_embeddings(method_id):
    size = 32 if method_id in ("jigsaw", "relative_position") else 16
    images, _, _ = shapes_split(size, 128, 4)
    method = build_method(method_id, {"exemplars": 64} if method_id == "exemplar" else None, size)
    x = images[:4]
    previews = method.input_preview(x)
    assert previews
    for name, img in previews.items():
        assert img.ndim == 4 and img.shape[:2] == (4, 3), name
        assert img.min() >= 0 and img.max() <= 1, name
    method.eval()
    assert method.embed(x).shape == (4, method.backbone.num_features)


def test_colorization_and_inpainting_outputs_keep_what_was_given():
    images, _, _ = shapes_split(16, 128, 4)
    x = images[:3]
    col = build_method("colorization", {"bins": 32}).eval()
    rgb = col.predict_colors(x)
    assert rgb.shape == (3, 3, 16, 16)
    assert torch.allclose(rgb_to_lab(rgb)[:, 0], rgb_to_lab(x.float() / 255)[:, 0], atol=3.0)  # L kept
    inp = build_method("inpainting").eval()
    mask = square_masks(3, 16, "center", 0.5, 4, None)
    filled = inp.predict_fill(x, mask)
    assert torch.equal(filled * (1 - mask), x.float() / 255 * (1 - mask))


def test_inpainting_with_adversarial_term_trains_its_discriminator():
    images, _, _ = shapes_split(16, 128, 4)
    m = build_method("inpainting", {"adv_weight": 0.01, "disc_width": 8})
    out = m.training_step(images[:8])
    out["loss"].backward()
    assert {"adv_g", "adv_d", "inpaint_psnr"} <= set(out)
    assert all(p.grad is not None for p in m.disc.parameters())


@pytest.mark.parametrize("params", [{"tasks": "rotation"}, {"tasks": "rotation,supervised"},
                                    {"tasks": "rotation,jigsaw", "weights": "1,2,3"},
                                    {"tasks": "rotation,jigsaw", "weights": "a,b"}])
def test_multitask_rejects_bad_settings(params):
    with pytest.raises(ParamError):
        build_method("multitask", params)


def test_supervised_needs_labels():
    m = build_method("supervised")
    assert m.needs_labels
    with pytest.raises(ParamError):
        m.training_step(shapes_split(16, 128, 4)[0][:4], None)


def test_sobel_input_ignores_colour_and_brightness_but_keeps_edges():
    x = torch.zeros(1, 3, 16, 16)
    x[:, :, 4:12, 4:12] = 1.0                                   # a square
    edges = sobel(x)
    shifted = sobel(x + torch.tensor([0.3, -0.2, 0.5]).view(1, 3, 1, 1))   # same shape, other colour
    assert torch.allclose(edges, shifted, atol=1e-5)
    assert edges[:, :2].abs().sum() > 0 and edges[:, 2].abs().sum() == 0
    assert edges[0, 0, 8, 4].abs() > 0 and edges[0, 0, 8, 8] == 0   # on the left edge, inside


def test_nat_reads_out_what_it_trains_on():
    method = build_method("nat", {"sobel": True}, image_size=32)
    x = (torch.rand(4, 3, 32, 32) * 255).to(torch.uint8)
    plain = build_method("nat", {"sobel": False}, image_size=32)
    plain.backbone.load_state_dict(method.backbone.state_dict())
    assert not torch.allclose(method.embed(x), plain.embed(x))
    assert "network input (Sobel)" in method.input_preview(x)


def test_exemplar_draws_every_image_several_times_per_batch():
    images, _, _ = shapes_split(16, 24, 4)
    method = build_method("exemplar", {"exemplars": 64, "copies": 3})
    seen = []
    method.classifier.register_forward_hook(lambda module, inputs, out: seen.append(out.shape[0]))
    method.training_step(images[:8])
    assert seen == [24]


def test_exemplar_cosine_classifier_scores_are_bounded_by_the_temperature():
    images, _, _ = shapes_split(16, 24, 4)
    method = build_method("exemplar", {"exemplars": 64, "cosine_temperature": 0.1})
    logits = method.logits(method.backbone.forward_features(images[:8].float() / 255))
    assert logits.shape == (8, 64) and logits.abs().max() <= 10.0 + 1e-4
    assert build_method("exemplar", {"exemplars": 64, "cosine_temperature": 0.1, "head_hidden": 32}).logits(
        torch.randn(8, 64)).abs().max() <= 10.0 + 1e-4


def test_the_colour_prior_is_smoothed_by_a_gaussian_of_sigma_5():
    """Zhang et al. (2016): class rebalancing uses the empirical prior smoothed with a
    Gaussian (sigma = 5 ab units) before mixing in the uniform distribution."""
    import plugins.methods.colorization as col
    from tests.plugins.method_harness import build_method

    m = build_method("colorization", {"decoder_width": 8})
    assert m.hparams["prior_sigma"] == 5.0
    bins = m.bins
    delta = torch.zeros(len(bins))
    delta[0] = 1.0
    smoothed = col.smooth_prior(delta, bins, 5.0)
    assert abs(float(smoothed.sum()) - 1) < 1e-5 and smoothed[0] < 1 and (smoothed > 0).sum() > 1
    d = ((bins - bins[0]) ** 2).sum(1)
    assert float(smoothed[d.argsort()[1]]) > float(smoothed[d.argmax()])  # nearer bins get more mass
    seen = []
    real = col.rebalance_weights
    col_rebalance = lambda prior, lam: seen.append(prior) or real(prior, lam)  # noqa: E731
    import pytest
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(col, "rebalance_weights", col_rebalance)
        m.training_step(torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8))
    assert torch.allclose(seen[-1], col.smooth_prior(m.prior, bins, 5.0))


@pytest.mark.parametrize("method_id, size_key, attr", [("exemplar", "exemplars", "classes"), ("nat", "capacity", "ids")])
def test_every_image_has_its_own_class_or_target_up_to_the_dataset_size(method_id, size_key, attr):
    """Dosovitskiy et al. (2014) and Bojanowski & Joulin (2017) give each image its own
    surrogate class / target: 2,000 images in a 2,000-slot table never share one (hashing
    into the slots made a quarter of them share), in any batch, and again when seen later."""
    from tests.plugins.method_harness import build_method

    params = {size_key: 2000, **({"target_dim": 8} if method_id == "nat" else {})}
    method = build_method(method_id, params)
    table = getattr(method, attr)
    images = torch.randint(0, 256, (2000, 3, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    first = torch.cat([table(images[i:i + 128]) for i in range(0, 2000, 128)])
    assert len(set(first.tolist())) == 2000 and int(first.max()) < 2000
    again = table(images[torch.arange(1999, -1, -1)])
    assert torch.equal(again, first.flip(0))
    extra = table(torch.randint(0, 256, (5, 3, 16, 16), dtype=torch.uint8))  # beyond the size: shared
    assert bool(((extra >= 0) & (extra < 2000)).all())
