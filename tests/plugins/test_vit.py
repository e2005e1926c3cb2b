"""ViT backbones: the backbone contract plus the patch API that MAE uses."""
import pytest
import torch

from engine import registry
from engine.params import ParamError
from plugins.backbones.vit import ViTSmall, ViTTiny

registry.discover()


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


def test_registered_with_deit_sizes_and_params():
    tiny = registry.create_backbone("vit_tiny", {"depth": 2}, image_size=16)
    small = registry.create_backbone("vit_small", {"depth": 2, "patch_size": 8}, image_size=16)
    assert (tiny.num_features, tiny.heads, ViTTiny.default_depth) == (192, 3, 12)
    assert (small.num_features, small.heads) == (384, 6)
    assert small.grid == 2 and tiny.grid == 4
    assert registry.get("backbone", "vit_small").cls is ViTSmall
    assert {p.name: p.default for p in ViTTiny.params} == {"patch_size": 4, "depth": 12, "pool": "cls"}


def test_pool_reads_the_cls_token_or_the_mean_of_the_patch_tokens():
    torch.manual_seed(0)
    cls = registry.create_backbone("vit_tiny", {"depth": 1}, image_size=16).eval()
    avg = registry.create_backbone("vit_tiny", {"depth": 1, "pool": "avg"}, image_size=16).eval()
    avg.load_state_dict(cls.state_dict())
    x = torch.randn(2, 3, 16, 16)
    tokens = cls.stages(x)[-1]                          # (N, D, 4, 4) final patch tokens
    assert torch.allclose(avg.forward_features(x), tokens.mean(dim=(2, 3)), atol=1e-5)
    assert not torch.allclose(cls.forward_features(x), avg.forward_features(x), atol=1e-3)


def test_image_size_must_be_divisible_by_patch_size():
    with pytest.raises(ParamError, match="not divisible"):
        registry.create_backbone("vit_tiny", {"patch_size": 5, "depth": 1}, image_size=32)


def test_features_and_four_stages():
    net = ViTTiny(image_size=16, patch_size=4, depth=2)
    x = torch.randn(3, 3, 16, 16)
    assert net.forward_features(x).shape == (3, 192)
    maps = net.stages(x)
    assert len(maps) == 4 and all(m.shape == (3, 192, 4, 4) for m in maps)
    deep = ViTTiny(image_size=16, patch_size=4, depth=8)
    assert deep.stage_ends() == [2, 4, 6, 8]
    assert not torch.allclose(deep.stages(x)[0], deep.stages(x)[3])


def test_other_input_sizes_interpolate_positions():
    net = ViTTiny(image_size=16, patch_size=4, depth=1)
    assert net.forward_features(torch.randn(2, 3, 8, 8)).shape == (2, 192)
    with pytest.raises(ValueError, match="patch size"):
        net.forward_features(torch.randn(2, 3, 10, 10))


def test_patchify_round_trip_and_layout():
    net = ViTTiny(image_size=8, patch_size=4, depth=1)
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8)
    patches = net.patchify(x)
    assert patches.shape == (2, 4, 48)
    assert torch.equal(patches[0, 1].view(4, 4, 3).permute(2, 0, 1), x[0, :, :4, 4:])  # row-major patches
    assert torch.equal(net.unpatchify(patches), x)


def test_forward_visible_with_every_patch_matches_the_full_encoder():
    torch.manual_seed(0)
    net = ViTTiny(image_size=16, patch_size=4, depth=2).eval()
    x = torch.randn(2, 3, 16, 16)
    every = torch.arange(16).expand(2, -1)
    tokens = net.forward_visible(x, every)
    assert tokens.shape == (2, 17, 192)
    assert torch.allclose(tokens[:, 0], net.forward_features(x), atol=1e-5)
    some = net.forward_visible(x, torch.tensor([[0, 3, 9, 15], [1, 2, 4, 8]]))
    assert some.shape == (2, 5, 192)
