"""How an evaluation reads a clip dataset: at the level of frames or of whole clips, against
which of its labellings (DESIGN.md, "for clips, frame-level and clip-level").

- frame level: every frame is a sample with its clip's label. An image backbone reads the
  frames as images (engine.data.frames), so every image protocol runs unchanged; a clip
  backbone gives its per-frame features (``frame_features``).
- clip level: every clip is a sample. A clip backbone gives its clip features; an image
  backbone its frame features averaged over the clip.
- target: ``label`` or one of the dataset's ``target_classes`` (moving_shapes:
  ``motion_labels``), e.g. a clip-level linear probe on the motion.

Image datasets ignore the readout; their evaluations are stored as before.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from engine.params import ParamError


class FeatureLevel(str, Enum):
    FRAME = "frame"
    CLIP = "clip"


@dataclass(frozen=True)
class ClipReadout:
    level: FeatureLevel = FeatureLevel.FRAME
    target: str = "label"

    @classmethod
    def of(cls, level: str | None = None, target: str | None = None) -> ClipReadout:
        """From CLI or form strings (None: the default); ParamError naming the choices."""
        try:
            lvl = FeatureLevel(level or FeatureLevel.FRAME.value)
        except ValueError:
            raise ParamError(f"unknown feature level {level!r} (known: frame, clip)") from None
        return cls(lvl, target or "label")

    def check(self, dataset) -> None:
        """ParamError when ``dataset`` has no labelling named ``target``."""
        known = ["label", *dataset.target_classes]
        if self.target not in known:
            raise ParamError(f"dataset {dataset.id} has no labelling {self.target!r} (it has {', '.join(known)})")

    def to_json(self) -> dict:
        return {"level": self.level.value, "target": self.target}


def readout_suffix(params: dict) -> str:
    """The comparison table's column suffix of an eval row's stored parameters: "" for image
    data, `` (clip)`` / `` (frame)``, and the target when it is not ``label``; ``validation``
    when the row was scored on a validation split carved from train rather than on test."""
    tags = [params["level"]] if params.get("level") else []
    if tags and params.get("target", "label") != "label":
        tags.append(params["target"])
    if params.get("validation"):
        tags.append("validation")
    return f" ({', '.join(tags)})" if tags else ""
