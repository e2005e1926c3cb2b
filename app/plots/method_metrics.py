"""Which logged metric is a method's own accuracy (``MethodPlugin.accuracy_key``).

Read from the registry when the plugins are loaded; before that (or for a plugin that is
gone) the first ``*_acc`` key other than the kNN monitor, else ``contrastive_acc``."""
from __future__ import annotations

DEFAULT = "contrastive_acc"


def accuracy_key(method_id: str, keys=()) -> str:
    from engine import registry

    if registry.is_discovered():  # asking before would load every plugin on the calling (GUI) thread
        try:
            return getattr(registry.get("method", method_id).cls, "accuracy_key", DEFAULT)
        except Exception:  # an unknown method: fall back to what the run logged
            pass
    if DEFAULT in keys:
        return DEFAULT
    candidates = [k for k in keys if k.endswith("_acc") and k != "knn_acc"]
    return min(candidates) if candidates else DEFAULT
