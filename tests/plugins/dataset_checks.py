"""Checks the labelled image-dataset tests share: ``check()`` passes, and train, test and
unlabeled come out as uint8 (N, S, S, 3) with the expected labels (unlabeled: train's
images, no labels)."""
import numpy as np


def labeled_splits(ds, n_train: int, n_test: int, size: int, train_y, test_y):
    """-> (train, test, unlabeled) of ``ds`` after asserting their shapes, dtype and labels."""
    ds.check()
    train, test, unlabeled = ds.split("train"), ds.split("test"), ds.split("unlabeled")
    assert train.images.shape == (n_train, size, size, 3) and test.images.shape == (n_test, size, size, 3)
    assert train.images.dtype == np.uint8 and unlabeled.labels is None and len(unlabeled) == n_train
    np.testing.assert_array_equal(train.labels, train_y)
    np.testing.assert_array_equal(test.labels, test_y)
    return train, test, unlabeled
