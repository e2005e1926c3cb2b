"""``digits``: scikit-learn's bundled handwritten digits, no download needed.

1,797 grayscale 8x8 images of the digits 0-9 (UCI "Optical Recognition of Handwritten
Digits", Alpaydin & Kaynak, 1998), scaled to 0-255, upscaled to ``image_size`` and
replicated to RGB. Train/test is a seeded stratified hold-out; ``unlabeled`` is the train
images without their labels.
"""
from __future__ import annotations

import numpy as np

from engine.api import (
    DataError,
    ImageArrayDataset,
    Param,
    hold_out_params,
    register_dataset,
    stratified_split,
)

CLASSES = [str(d) for d in range(10)]


def load_digit_images() -> tuple[np.ndarray, np.ndarray]:
    """-> images (1797, 8, 8, 3) uint8 (white digit on black), labels (1797,) int64."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise DataError("the digits dataset needs scikit-learn, which is not installed") from None
    bunch = load_digits()
    gray = np.clip(np.rint(bunch.images * (255.0 / 16.0)), 0, 255).astype(np.uint8)  # values are 0..16
    return np.repeat(gray[..., None], 3, axis=-1), bunch.target.astype(np.int64)


@register_dataset
class Digits(ImageArrayDataset):
    id = "digits"
    title = "Digits (scikit-learn)"
    summary = ("The 1,797 handwritten digits bundled with scikit-learn (10 classes, 0-9), 8x8 grayscale "
               "upscaled and shown as RGB. Nothing to download; small enough to try a method in seconds. "
               "Train and test are a seeded stratified split; unlabeled is the train images.")
    citation = ("Alpaydin & Kaynak, Optical Recognition of Handwritten Digits, UCI Machine Learning "
                "Repository, 1998")
    class_names = tuple(CLASSES)
    stored_side = 8
    params = [
        Param("image_size", "int", 32, "side of the square images in pixels (the originals are 8x8)", 8, 128, unit="px"),
        *hold_out_params(),
    ]

    def check(self):
        try:
            import sklearn.datasets  # noqa: F401
        except ImportError:
            raise DataError("the digits dataset needs scikit-learn, which is not installed") from None

    def _indices(self, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """-> all images (1797, 8, 8, 3), all labels, and the indices split ``name`` takes."""
        images, labels = load_digit_images()
        train_idx, test_idx = stratified_split(labels, self.params["test_fraction"], self.params["seed"])
        return images, labels, test_idx if name == "test" else train_idx

    def count(self, name):
        return len(self._indices(name)[2])

    def blocks(self, name, start, step):
        """Blocks of (n, 8, 8, 3) uint8 in the split's order, with their labels."""
        images, labels, idx = self._indices(name)
        for i in range(start, len(idx), step):
            part = idx[i:i + step]
            yield images[part], labels[part]
