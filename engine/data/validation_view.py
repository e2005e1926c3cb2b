"""A validation split carved from train, for choosing settings without reading test.

``ValidationOf`` wraps a labeled dataset so that its ``train`` split is the rest of train
and its ``test`` split is a stratified, seeded share of train (``stratified_split``), whole
samples at a time: a clip is held out with all its frames, so no frame of a validation clip
is in the bank. Every protocol then runs unchanged and never touches the real test split
(the guide's rule: settings on a validation split carved from train, test read once per
figure). The held-out records are copied into memory (evaluation loads its splits whole
anyway).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.data.dataset import DataError, DatasetPlugin, Split
from engine.data.stratified_split import stratified_split
from engine.params import ParamError


@dataclass(frozen=True)
class Validation:
    """fraction: share of each class of train held out; seed: which samples."""

    fraction: float
    seed: int = 0

    def __post_init__(self):
        if not 0.0 < self.fraction < 1.0:
            raise ParamError(f"the validation fraction must lie between 0 and 1, not {self.fraction:g}")

    def to_json(self) -> dict:
        return {"validation": {"fraction": self.fraction, "seed": self.seed}}


def take(split: Split, index: np.ndarray) -> Split:
    """The records ``index`` of ``split`` (images, labels, targets and audio)."""
    return replace(split, images=None if split.images is None else np.asarray(split.images[index]),
                   labels=split.labels[index], targets={k: v[index] for k, v in split.targets.items()},
                   audio=None if split.audio is None else np.asarray(split.audio[index]), skipped=0)


class ValidationOf(DatasetPlugin):
    """``inner`` with ``train`` = the rest of its train split and ``test`` = a stratified
    ``validation.fraction`` of it; everything else is the inner dataset's."""

    def __init__(self, inner: DatasetPlugin, validation: Validation):
        super().__init__(inner.cache_dir, **inner.params)
        self.inner, self.validation = inner, validation
        self.id, self.title, self.splits = inner.id, inner.title, ("train", "test")
        self.has_labels, self.target_classes = inner.has_labels, inner.target_classes
        self.sample_kind = inner.sample_kind
        self._parts: tuple[Split, Split] | None = None

    @property
    def image_size(self) -> int:
        return self.inner.image_size

    def check(self) -> None:
        self.inner.check()

    def _carve(self, progress=None) -> tuple[Split, Split]:
        if self._parts is None:
            if "train" not in self.inner.splits:
                raise DataError(f"dataset {self.id} has no train split to carve a validation split from")
            train = self.inner.split("train", progress)
            if train.labels is None:
                raise DataError(f"the train split of dataset {self.id} has no labels to stratify a validation split by")
            keep, val = stratified_split(train.labels, self.validation.fraction, self.validation.seed)
            if len(val) == 0 or len(keep) == 0:
                raise DataError(f"the train split of dataset {self.id} is too small to carve a validation split from")
            self._parts = (take(train, keep), take(train, val))
        return self._parts

    def split(self, name: str, progress=None) -> Split:
        if name not in self.splits:
            raise DataError(f"a validation view of {self.id} has only train and test (validation) splits, not {name!r}")
        rest, val = self._carve(progress)
        return rest if name == "train" else val

    def is_cached(self, name: str) -> bool:
        return self.inner.is_cached("train")
