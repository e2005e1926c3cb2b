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


def chance_level(run) -> float | None:
    """The chance level of ``run``'s method accuracy (``MethodPlugin.accuracy_chance``, read
    from the class with the run's method parameters and batch size); None when the plugins
    are not loaded yet, the method declares none, or the config lacks what it needs. Under
    torchrun the batch size is per process, so the line is that of one process's batch."""
    from engine import registry

    if not registry.is_discovered():
        return None
    try:
        cls = registry.get("method", run.method).cls
        return cls.accuracy_chance(run.config["method"]["params"], int(run.config["train"]["batch_size"]))
    except Exception:  # an unknown method or an old config: no line
        return None
