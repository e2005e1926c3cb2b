"""A run's backbone as a state dict for the library users load models from: torchvision's
``resnet18``/``resnet50`` or timm's model of the same name (the two share key names:
``conv1``, ``bn1``, ``layer1``..``layer4``, ``fc``). Users of solo-learn and lightly ask for
exactly this (solo-learn #123, lightly #1475).

Pretext's ResNet keeps torchvision's modules under ``stem`` (conv1, bn1, relu, maxpool) and
``layers``; the export renames them back. There is no classifier: ``fc`` is left out, so the
file loads with ``strict=False`` and ``fc`` as the only missing keys. Runs on images of at
most 64 px trained with the small-image stem (3x3 conv1, no max-pool, SimCLR's CIFAR
variant): the export says how to build the matching model.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import torch


class ExportFormat(str, Enum):
    TORCHVISION = "torchvision"
    TIMM = "timm"


EXPORTABLE = {"resnet18", "resnet50"}
_STEM = {"stem.0.": "conv1.", "stem.1.": "bn1."}
_LAYER = re.compile(r"^layers\.(\d+)\.")


@dataclass(frozen=True)
class ExportedBackbone:
    path: Path
    arch: str
    tensors: int
    small_stem: bool

    def how_to_load(self, fmt: ExportFormat) -> str:
        build = (f"torchvision.models.{self.arch}(weights=None)" if fmt == ExportFormat.TORCHVISION
                 else f"timm.create_model('{self.arch}', pretrained=False)")
        stem = ("; first set model.conv1 = torch.nn.Conv2d(3, 64, 3, 1, 1, bias=False) and "
                "model.maxpool = torch.nn.Identity() (the run's small-image stem)") if self.small_stem else ""
        return (f"model = {build}{stem}; model.load_state_dict(torch.load('{self.path}'), strict=False) "
                f"(missing: fc only)")


def torchvision_keys(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Pretext ResNet keys (``stem.0.weight``, ``layers.2.1.conv1.weight``) -> torchvision's
    (``conv1.weight``, ``layer3.1.conv1.weight``)."""
    out = {}
    for key, value in state.items():
        new = key
        for ours, theirs in _STEM.items():
            if key.startswith(ours):
                new = theirs + key[len(ours):]
        m = _LAYER.match(key)
        if m:
            new = f"layer{int(m.group(1)) + 1}." + key[m.end():]
        if new == key:
            raise ValueError(f"backbone key {key!r} has no torchvision counterpart")
        out[new] = value
    return out


def export_backbone(state: dict[str, torch.Tensor], backbone_id: str, out: Path, fmt: ExportFormat) -> ExportedBackbone:
    """Write ``state`` (the run's backbone) to ``out`` with ``fmt``'s key names."""
    if backbone_id not in EXPORTABLE:
        raise ValueError(f"a {backbone_id} backbone cannot be exported as {fmt.value} (supported: "
                         f"{', '.join(sorted(EXPORTABLE))}); use the run's artifacts/backbone.pt with Pretext")
    mapped = {k: v.detach().cpu().clone() for k, v in torchvision_keys(state).items()}
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    torch.save(mapped, out)
    small = tuple(mapped["conv1.weight"].shape[-2:]) == (3, 3)
    return ExportedBackbone(out, backbone_id, len(mapped), small)
