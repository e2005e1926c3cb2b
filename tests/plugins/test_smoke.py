"""Registry-driven smoke test: every registered backbone and method builds and takes a
training step on tiny data; every dataset that needs no files builds its splits."""
import pytest
import torch

from engine import registry as reg
from engine.capabilities import SampleKind
from engine.data.av_batch import AVBatch, av_batch
from engine.data.dataset import Split
from engine.data.tensors import images_to_tensor
from engine.training.presets import get_preset

reg.discover()
TINY = 16
FRAMES = 8  # clips of the tiny clip batch


def _needs_files(entry) -> bool:
    return any(p.kind in ("dir", "path") and not p.optional for p in entry.schema)


def _backbone_params(entry, image_size):
    """Small settings for speed, where the schema has them."""
    names = {p.name for p in entry.schema}
    out = {}
    if "width" in names:
        out["width"] = 8
    if "depth" in names:
        out["depth"] = 2
    if "patch_size" in names:
        out["patch_size"] = 4
    return out


@pytest.fixture(scope="module")
def tiny_batch():
    shapes = reg.create_dataset("shapes", {"image_size": TINY, "train_size": 24, "test_size": 12})
    split = shapes.split("train")
    x = torch.from_numpy(split.images).permute(0, 3, 1, 2).contiguous()
    return x, torch.from_numpy(split.labels), len(split.classes)


@pytest.fixture(scope="module")
def tiny_clips():
    clips = reg.create_dataset("moving_shapes", {"image_size": TINY, "frames": FRAMES, "train_size": 12,
                                                 "test_size": 8})
    split = clips.split("train")
    return images_to_tensor(split.images), torch.from_numpy(split.labels), len(split.classes)


@pytest.fixture(scope="module")
def tiny_av():
    data = reg.create_dataset("sounding_shapes", {"image_size": TINY, "frames": FRAMES, "train_size": 12,
                                                  "test_size": 8, "sample_rate": 8000})
    split = data.split("train")
    return av_batch(split.images, split.audio, split.sample_rate), torch.from_numpy(split.labels), len(split.classes)


@pytest.mark.parametrize("entry", reg.entries("dataset"), ids=lambda e: e.id)
def test_dataset_builds(entry, tmp_path):
    if _needs_files(entry):
        pytest.skip(f"{entry.id} reads local files; its loader tests write them")
    params = {p.name: p.default for p in entry.schema}
    for name, small in (("image_size", TINY), ("train_size", 24), ("test_size", 12)):
        if name in params:
            params[name] = small
    ds = reg.create_dataset(entry.id, params, tmp_path)
    for name in ds.splits:
        s = ds.split(name)
        assert isinstance(s, Split) and len(s) > 0 and s.images.dtype.name == "uint8"
        assert s.kind == SampleKind(entry.cls.sample_kind)
        assert set(s.targets) == set(entry.cls.target_classes)


@pytest.mark.parametrize("entry", reg.entries("backbone"), ids=lambda e: e.id)
def test_backbone_contract(entry):
    net = reg.create_backbone(entry.id, _backbone_params(entry, 32), image_size=32)
    clips = entry.cls.input_kind == SampleKind.CLIP
    if entry.cls.input_kind == SampleKind.AUDIO:  # waveforms -> log-mel maps (N, C, mel, time)
        x = 0.1 * torch.randn(2, 8000)
        assert net.forward_features(x).shape == (2, net.num_features) and torch.equal(net(x), net.forward_features(x))
        stages = net.stages(x)
        assert len(net.stage_names) == len(stages) and all(s.ndim == 4 and s.shape[0] == 2 for s in stages)
        return
    x = torch.randn(2, 4, 3, 32, 32) if clips else torch.randn(2, 3, 32, 32)
    f = net.forward_features(x)
    assert f.shape == (2, net.num_features)
    stages = net.stages(x)
    assert len(stages) >= 2 and all(s.ndim == (5 if clips else 4) and s.shape[0] == 2 for s in stages)
    assert len(net.stage_names) == len(stages)
    assert torch.equal(net(x), f)
    if clips:  # per-frame features, for the image protocols on frames; one-frame clips too
        assert net.frame_features(x).shape == (2, 4, net.frame_dims)
        assert net.forward_features(x[:, :1]).shape == (2, net.num_features)


def _method_backbone(method_entry):
    """The backbone a method is smoke-tested with: convnet, else the first of the smallest
    backbones that declares what the method requires (vit_tiny for MAE)."""
    backbone_id = next(b for b in ("convnet", "vit_tiny", "r2plus1d", "framewise")
                       if reg.compatibility_error(method_entry.id, b) is None)
    entry = reg.get("backbone", backbone_id)
    return reg.create_backbone(backbone_id, _backbone_params(entry, TINY), image_size=TINY)


@pytest.mark.parametrize("entry", reg.entries("method"), ids=lambda e: e.id)
def test_method_takes_a_training_step(entry, tiny_batch, tiny_clips, tiny_av):
    torch.manual_seed(0)
    sound = entry.cls.input_kind == SampleKind.CLIP_AUDIO
    clips = entry.cls.input_kind == SampleKind.CLIP or sound
    x, y, n_cls = tiny_av if sound else tiny_clips if clips else tiny_batch
    # clip methods at the quick preset's clip settings: the papers' need 16-64 frames
    params = get_preset("quick").values_for("method", entry.schema) if clips else None
    if sound:  # a tiny audio tower
        params = {**(params or {}), "audio_width": 8, "audio_mels": 16, "audio_hop_ms": 20.0}
    method = reg.create_method(entry.id, _method_backbone(entry), params, image_size=TINY, num_classes=n_cls)
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.01)
    before = [p.detach().clone() for p in method.backbone.parameters()]
    out = method.training_step(x, y if entry.cls.needs_labels else None)
    assert torch.isfinite(out["loss"]) and out["loss"].ndim == 0
    opt.zero_grad()
    out["loss"].backward()
    opt.step()
    method.on_step_end(0.5)
    assert any(not torch.equal(a, b) for a, b in zip(before, method.backbone.parameters())), "backbone did not train"
    assert entry.cls.accuracy_key in out, f"{entry.id} does not log {entry.cls.accuracy_key}"
    preview = method.input_preview(x[:4])
    assert preview and all(v.ndim == 4 and v.shape[1] == 3 for v in preview.values())
    assert method.embed(x[:4]).shape[0] == 4
    if sound:
        assert isinstance(x, AVBatch) and method.embed_audio(x[:4]).shape[0] == 4


@pytest.mark.parametrize("entry", [e for e in reg.entries("method") if e.cls.input_kind == SampleKind.CLIP],
                         ids=lambda e: e.id)
def test_clip_method_trains_on_framewise_concat_pooling(entry, tiny_clips):
    """Concatenated (late-fusion) pooling changes the clip feature's width; a method that
    encodes single frames or shorter sub-clips must still build and step, or be refused."""
    torch.manual_seed(0)
    x, y, n_cls = tiny_clips
    params = get_preset("quick").values_for("method", entry.schema)
    backbone = reg.create_backbone("framewise", {"width": 8, "pooling": "concat", "concat_frames": FRAMES}, TINY)
    method = reg.create_method(entry.id, backbone, params, image_size=TINY, num_classes=n_cls)
    out = method.training_step(x, y if entry.cls.needs_labels else None)
    assert torch.isfinite(out["loss"])
    assert method.embed(x[:4]).shape == (4, backbone.num_features)
