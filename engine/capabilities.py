"""What a backbone can do and what a method needs of it, declared as class attributes and
checked before a run exists (DESIGN.md, "Plugins").

A backbone declares ``input_kind`` (the sample kind it encodes) and ``capabilities`` (a
frozenset of ``Capability``); a method declares the ``input_kind`` its ``training_step``
consumes and ``requires``, the capabilities it calls on its backbone.
``registry.compatibility_error(method_id, backbone_id)`` compares the two from the classes
alone, so a form can ask before any model is built.

Nothing here imports torch: the GUI asks on its main thread.
"""
from __future__ import annotations

from enum import Enum


class SampleKind(str, Enum):
    """What one training sample is. Datasets declare the kind they hold (``sample_kind``),
    methods and backbones the kind they consume (``input_kind``). An image consumer reads a
    clip dataset as its frames (engine.data.frames), as lightly's video dataset does."""

    IMAGE = "image"            # (H, W, 3) uint8
    CLIP = "clip"              # (T, H, W, 3) uint8 frames
    CLIP_AUDIO = "clip+audio"  # frames plus a mono waveform at a stated rate
    AUDIO = "audio"            # (L,) mono waveform: what an audio backbone encodes


class Capability(str, Enum):
    """An interface a backbone offers beyond ``forward_features`` and ``stages``."""

    TOKENS = "tokens"    # a patch-token grid: patch_size, num_patches, patchify / unpatchify
    MASKING = "masking"  # forward_visible(x, keep_idx): encodes only the kept patches (MAE)


def data_mismatch(method_cls: type, dataset_cls: type) -> str | None:
    """Why ``method_cls`` cannot pre-train on ``dataset_cls``'s samples, as a clause about the
    dataset ("holds clip samples, not image samples"), or None when it can. Image methods
    pre-train on a clip dataset's frames, clip methods on a clip+audio dataset's clips."""
    wants, has = SampleKind(method_cls.input_kind), SampleKind(dataset_cls.sample_kind)
    if wants == SampleKind.IMAGE and has in (SampleKind.CLIP, SampleKind.CLIP_AUDIO):
        return None
    if wants == SampleKind.CLIP and has == SampleKind.CLIP_AUDIO:
        return None  # a clip method reads the clips and leaves the sound
    if wants != has:
        return f"holds {has.value} samples, not {wants.value} samples"
    return None


def method_needs(method_cls: type, method_params: dict) -> frozenset[Capability]:
    """The capabilities ``method_cls`` needs with ``method_params`` (resolved values)."""
    return frozenset(Capability(c) for c in method_cls.required_capabilities(method_params))


def backbone_offers(backbone_cls: type) -> frozenset[Capability]:
    return frozenset(Capability(c) for c in backbone_cls.capabilities)


def mismatch(method_cls: type, backbone_cls: type, method_params: dict) -> str | None:
    """Why ``method_cls`` cannot train ``backbone_cls``, as a clause about the backbone
    ("lacks masking and tokens"), or None when it can."""
    wants, has = SampleKind(method_cls.input_kind), SampleKind(backbone_cls.input_kind)
    if wants == SampleKind.CLIP_AUDIO and has == SampleKind.CLIP:
        wants = has  # an audio-visual method trains a clip backbone; its audio tower is its own
    if wants != has:
        return f"encodes {has.value} samples, not {wants.value} samples"
    missing = method_needs(method_cls, method_params) - backbone_offers(backbone_cls)
    if missing:
        return "lacks " + " and ".join(sorted(c.value for c in missing))
    return None
