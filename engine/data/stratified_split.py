"""A seeded, stratified train/test hold-out shared by the labeled dataset plugins.

Each class is shuffled on its own and ``test_fraction`` of it goes to test, so both parts
keep the class balance of the whole (like scikit-learn's ``train_test_split(stratify=...)``,
but a class with a single image is kept in train instead of raising).
"""
from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """labels: (N,) int -> (train_idx, test_idx), sorted int64 index arrays that partition range(N).

    A class with n >= 2 images puts round(n * test_fraction) of them in test, at least one
    and at most n - 1, so every class appears on both sides."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n_test = int(round(len(idx) * test_fraction))
        n_test = min(max(n_test, 1), len(idx) - 1) if len(idx) >= 2 else 0
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    if not train:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.sort(np.concatenate(train)).astype(np.int64), np.sort(np.concatenate(test)).astype(np.int64)


def hold_out_params(noun: str = "images") -> list:
    """The two parameters of a seeded stratified hold-out: ``test_fraction`` of each class's
    ``noun`` and the split's ``seed``."""
    from engine.params import Param

    return [
        Param("test_fraction", "float", 0.2, f"fraction of each class's {noun} held out as the labeled test split",
              0.05, 0.9),
        Param("seed", "int", 0, "seed of the train/test split", 0, 2**31 - 1),
    ]


def held_out_part(items: list, labels: np.ndarray, name: str, test_fraction: float, seed: int,
                  what: str) -> tuple[list, np.ndarray]:
    """The ``items`` (and their (n,) labels) of split ``name`` of a class-folder dataset: test is
    the stratified hold-out, any other split the rest. ``what`` names the items in the one
    sentence that refuses a split left empty (e.g. "root has too few videos")."""
    from engine.data.errors import DataError

    train, test = stratified_split(labels, test_fraction, seed)
    idx = test if name == "test" else train
    if not len(idx):
        raise DataError(f"{what} per class to hold out a {name} split")
    return [items[i] for i in idx], np.asarray(labels)[idx]


def check_class_folder(items: list, labels: np.ndarray, readable, noun: str) -> None:
    """Refuse, in one sentence, a class folder that cannot hold out a test split or whose
    ``noun`` files (``readable(item) -> bool``, tried until one reads) all fail to read."""
    from engine.data.errors import DataError

    if not len(labels) or np.bincount(labels).max() < 2:
        raise DataError(f"root needs a class with at least two {noun} to hold out a test split")
    if not any(readable(item) for item in items):
        raise DataError(f"none of the {len(items)} {noun} in root could be read")
