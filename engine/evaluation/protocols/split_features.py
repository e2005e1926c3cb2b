"""What the read-out protocols on frozen features start with: the train split's features,
then the test split's, each its own stretch of the progress bar, and the number of classes
the classifier needs (the dataset's, or more if the test labels say so)."""
from __future__ import annotations


def train_and_test(ctx, train_done: float, test_done: float):
    """-> (train_f (N, F), train_y (N,), test_f (M, F), test_y (M,)) from ``ctx.features``:
    progress 0..``train_done`` encodes train, ..``test_done`` test; the protocol's own work
    is the phase from ``test_done`` to 1, which this opens."""
    ctx.phase(0.0, train_done)
    train_f, train_y = ctx.features("train")
    ctx.phase(train_done, test_done)
    test_f, test_y = ctx.features("test")
    ctx.phase(test_done, 1.0)
    return train_f, train_y, test_f, test_y


def class_count(ctx, test_y) -> int:
    """Classes of the read-out: ``ctx.num_classes``, or one past the largest test label."""
    return max(ctx.num_classes, int(test_y.max()) + 1)
