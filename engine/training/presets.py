"""Presets: named sets of values laid over the plugins' and training defaults.

The plugins' defaults are their papers' (MoCo's 4,096-key queue, SimCLR's grayscale
probability 0.2, ...). A paper's recipe assumes ImageNet-scale data and GPU-days; a person
trying Pretext on a laptop wants a run that learns something in minutes. That is what the
``quick`` preset is for, and it is the default: ``python main.py train`` with no options and
Start with the GUI's first choices use it. ``paper`` lays nothing over the defaults.

A preset value applies only where the chosen plugin's schema has that parameter, so one
preset serves every method (``gray_p`` for those that have it). Explicit values (form
fields, ``--set``, ``--epochs``) always win over the preset.

The ``quick`` values are the ones docs/methods.md measures on ``shapes`` (session 10, after
the science-fidelity fixes: SimCLR on upright shapes with grayscale 0.8, 930 steps of batch
64, kNN 0.360 against 0.134 for random init); ``benchmarks/first_run.py`` checks the whole first run end to end. The clip
methods' values fit moving_shapes' 8-frame clips (VCOP: 3 clips of 2 frames 1 apart; CVRL:
clips of 4 consecutive frames; odd-one-out: elements of 4 frames).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.params import Param, ParamError

SECTIONS = ("data", "method", "backbone", "train")


@dataclass(frozen=True)
class Preset:
    id: str
    title: str
    summary: str
    plugins: dict = field(default_factory=dict)  # section -> plugin id the preset starts from
    values: dict = field(default_factory=dict)   # section -> {parameter: value}

    def values_for(self, section: str, schema: list[Param]) -> dict:
        """This preset's values for ``section`` that ``schema`` has a parameter for."""
        names = {p.name for p in schema}
        return {k: v for k, v in self.values.get(section, {}).items() if k in names}


QUICK = Preset(
    "quick", "Quick on a CPU",
    "Learns in about two minutes on a laptop CPU: 2,000 upright shapes, the small ConvNet at "
    "width 16, 30 epochs of batch 64 (930 steps), grayscale views 80 % of the time so that colour "
    "alone cannot tell images apart; channels-last memory format (faster convolutions on a CPU).",
    plugins={"data": "shapes", "method": "simclr", "backbone": "convnet"},
    values={"data": {"train_size": 2000, "max_rotation": 15.0},
            "backbone": {"width": 16},
            # crop_min 0.2: the smallest crops of the papers' 0.08 leave too little of a 32 px image;
            # colorization: 313 bins are too many for 32 px; clip methods on moving_shapes' 8-frame
            # clips (the papers' assume 16-64 frames)
            "method": {"gray_p": 0.8, "crop_min": 0.2, "bins": 100, "clip_len": 2, "interval": 1,
                       "clip_frames": 4, "frame_stride": 1, "element_frames": 4},
            # channels_last: with bf16 autocast on a 2-core CPU, 99-111 ms a step instead of 145-156
            # and the kNN monitor 0.7 s instead of 1.1-1.6 s (session 10), the same arithmetic
            "train": {"epochs": 30, "batch_size": 64, "channels_last": True}},
)
PAPER = Preset(
    "paper", "Papers' defaults",
    "Every parameter at its plugin's default, which is its paper's value (e.g. MoCo's 4,096-key "
    "queue, grayscale probability 0.2); meant for real datasets, larger backbones and GPUs.",
    plugins={"data": "shapes", "method": "simclr", "backbone": "resnet18"},
)
PRESETS = {p.id: p for p in (QUICK, PAPER)}
DEFAULT_PRESET = QUICK.id


def get_preset(preset_id: str) -> Preset:
    try:
        return PRESETS[preset_id]
    except KeyError:
        raise ParamError(f"unknown preset {preset_id!r} (known: {', '.join(PRESETS)})") from None
