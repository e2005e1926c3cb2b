"""Backbone export (issue 20): a run's ResNet written with torchvision's / timm's key names
loads into ``torchvision.models.resnet18`` (and timm's resnet18) and computes the same
features as Pretext's backbone."""
from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from engine import registry
from engine.cli.commands import main
from engine.models.backbone_export import ExportFormat, export_backbone
from engine.store.database import Store
from engine.training import checkpoint
from tests.app.conftest import tiny_config


def _ours(image_size):
    registry.discover(None)
    torch.manual_seed(0)
    net = registry.create_backbone("resnet18", {}, image_size).eval()
    for m in net.modules():  # non-trivial running statistics, so BN buffers must come along
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
    return net


def _same_features(ours, theirs, image_size):
    theirs.fc = nn.Identity()
    x = torch.randn(2, 3, image_size, image_size)
    with torch.no_grad():
        assert torch.allclose(ours.forward_features(x), theirs.eval()(x), atol=1e-5)


@pytest.mark.parametrize("image_size", [32, 96])  # small-image stem, and torchvision's own
def test_loads_into_torchvision_resnet18_with_fc_the_only_missing_keys(tmp_path, image_size):
    ours = _ours(image_size)
    done = export_backbone(ours.state_dict(), "resnet18", tmp_path / "r18.pt", ExportFormat.TORCHVISION)
    model = torchvision.models.resnet18(weights=None)
    if done.small_stem:
        model.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        model.maxpool = nn.Identity()
    assert done.small_stem == (image_size <= 64) and ("Conv2d(3, 64, 3" in done.how_to_load(ExportFormat.TORCHVISION)) == done.small_stem
    result = model.load_state_dict(torch.load(done.path, weights_only=True), strict=False)
    assert sorted(result.missing_keys) == ["fc.bias", "fc.weight"] and result.unexpected_keys == []
    _same_features(ours, model, image_size)


def test_loads_into_timm_resnet18(tmp_path):
    timm = pytest.importorskip("timm")
    ours = _ours(96)
    done = export_backbone(ours.state_dict(), "resnet18", tmp_path / "r18.pt", ExportFormat.TIMM)
    model = timm.create_model("resnet18", pretrained=False)
    result = model.load_state_dict(torch.load(done.path, weights_only=True), strict=False)
    assert sorted(result.missing_keys) == ["fc.bias", "fc.weight"] and result.unexpected_keys == []
    _same_features(ours, model, 96)


def test_the_cli_exports_a_runs_backbone_and_refuses_other_backbones_in_one_sentence(tmp_path, capsys):
    ours = _ours(32)
    with Store(tmp_path) as store:
        resnet = store.create_run(dict(tiny_config(), backbone={"id": "resnet18", "params": {}}), "r")
        conv = store.create_run(tiny_config(), "c")
        for run, state in ((resnet, ours.state_dict()), (conv, {"stem.0.weight": torch.zeros(1)})):
            checkpoint.save_atomic({"backbone": state}, store.run_dir(run).backbone)
    out = tmp_path / "exported.pt"
    assert main(["export", resnet, "--backbone", str(out), "--format", "torchvision", "--home", str(tmp_path)]) == 0
    assert "strict=False" in capsys.readouterr().out
    model = torchvision.models.resnet18(weights=None)
    model.conv1, model.maxpool = nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.Identity()
    model.load_state_dict(torch.load(out, weights_only=True), strict=False)
    _same_features(ours, model, 32)
    assert main(["export", conv, "--backbone", str(out), "--format", "timm", "--home", str(tmp_path)]) == 2
    assert main(["export", resnet, "--backbone", str(out), "--home", str(tmp_path)]) == 2
    assert main(["export", resnet, "--home", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and "convnet" in err[0] and "--format" in err[1]
