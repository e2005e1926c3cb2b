"""The one error type of bad data, shared by the dataset API and the cache."""
from __future__ import annotations


class DataError(ValueError):
    """Data that cannot be used (missing folder, bad file, full disk); the message is one sentence."""
