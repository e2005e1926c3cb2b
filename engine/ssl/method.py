"""What a method plugin is: an ``nn.Module`` built from a backbone that turns a batch of
uint8 images on the device into ``{"loss": ..., **metrics}``.

Subclasses declare ``id, title, summary, citation, params`` (class attributes), build their
heads in ``__init__`` and implement ``training_step``. Optional hooks: ``on_step_end``
(momentum encoders, queues, re-assignments), ``input_preview`` (what the network really
sees, for the GUI) and ``embed`` (features for kNN and probes).

What a method needs of its backbone is declared, never probed: ``input_kind`` (the sample
kind ``training_step`` takes) and ``requires`` (``Capability`` values the backbone must
declare); ``build_config`` refuses a backbone that lacks them before a run exists.
"""
from __future__ import annotations

import torch
from torch import nn

from engine.capabilities import Capability, SampleKind
from engine.plugin_card import PluginCard
from engine.ssl.augment import normalize, to_float


class MethodPlugin(PluginCard, nn.Module):
    needs_labels = False   # True: trained on the labeled ``train`` split (e.g. supervised)
    accuracy_key = "contrastive_acc"  # the metric the progress bar and monitor show
    chance = None  # chance level of ``accuracy_key`` when it does not depend on the run (rotation: 1/4)
    input_kind = SampleKind.IMAGE
    requires: frozenset[Capability] = frozenset()  # capabilities the backbone must declare

    def __init__(self, backbone: nn.Module, image_size: int = 32, num_classes: int | None = None, **params):
        super().__init__()
        self.backbone = backbone
        self.image_size = image_size
        self.num_classes = num_classes
        self.hparams = params
        self.gen = torch.Generator().manual_seed(0)

    @classmethod
    def required_capabilities(cls, params: dict) -> frozenset[Capability]:
        """What the backbone must declare for this method with ``params`` (resolved values):
        ``requires`` unless the needs depend on the parameters (multi-task's tasks)."""
        return cls.requires

    @classmethod
    def accuracy_chance(cls, params: dict, batch_size: int) -> float | None:
        """Chance level of ``accuracy_key`` for resolved ``params`` and a global batch of
        ``batch_size`` images (the monitor's dashed line); None where there is none (a loss,
        a PSNR). Read from the class: no model is built."""
        return cls.chance

    def set_seed(self, seed: int) -> None:
        """Seed the generator that draws augmentation parameters (on the CPU)."""
        self.gen = torch.Generator().manual_seed(seed)

    def training_step(self, x: torch.Tensor, y: torch.Tensor | None = None) -> dict:
        """x: (N, 3, H, W) uint8 on the device; y: (N,) int64 or None."""
        raise NotImplementedError

    def on_step_end(self, progress: float) -> None:
        """Called after each optimizer step; ``progress`` in [0, 1] over the whole run."""

    @torch.no_grad()
    def input_preview(self, x: torch.Tensor) -> dict:
        """Named batches of (N, 3, H, W) float images in [0, 1] as the network sees them."""
        return {"original": to_float(x)}

    @torch.no_grad()
    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) uint8 -> (N, F) frozen backbone features."""
        return self.backbone.forward_features(normalize(to_float(x)))
