"""A run's configuration: which plugins with which parameters, and the training settings.

``{"data": {"id", "params"}, "backbone": {...}, "method": {...}, "train": {...}}`` is
what the store keeps in ``runs.config``; the GUI and CLI both build it with ``build_config``.
"""
from __future__ import annotations

from engine import registry
from engine.capabilities import data_mismatch
from engine.params import Param, ParamError, resolve
from engine.training.presets import get_preset

TRAIN_PARAMS = [
    Param("epochs", "int", 3, "passes over the pre-training split", 1, 100000),
    Param("batch_size", "int", 128, "images per step (per process under torchrun)", 2, 65536),
    Param("optimizer", "choice", "adamw", "AdamW (the fast default for short CPU runs), SGD with momentum, or LARS (You et al., 2017)",
          choices=("adamw", "sgd", "lars")),
    Param("lr", "float", 2e-3, "peak learning rate after warm-up (AdamW ~1e-3; SGD/LARS ~0.3 x batch/256)", 1e-7, 100.0, log=True),
    Param("weight_decay", "float", 1e-4, "L2 weight decay", 0.0, 1.0),
    Param("momentum", "float", 0.9, "momentum of SGD and LARS", 0.0, 0.999),
    Param("schedule", "choice", "cosine", "learning-rate schedule after warm-up",
          choices=("cosine", "constant")),
    Param("warmup_epochs", "float", 0.5, "linear warm-up length in epochs (at most half the run)", 0.0, 1000.0),
    Param("device", "choice", "auto", "auto picks CUDA when there is a GPU", choices=("auto", "cpu", "cuda")),
    Param("precision", "choice", "auto", "auto: bf16 autocast on CUDA (fp16 where bf16 is missing) and on CPUs with native bf16 "
          "(AVX-512 BF16, AMX), else fp32; fp16 is for CUDA (fp32 on a CPU)",
          choices=("auto", "fp32", "bf16", "fp16")),
    Param("seed", "int", 0, "seed for weights, data order and augmentations", 0, 2**31 - 1),
    Param("knn_every", "int", 1, "online kNN monitor every K epochs (0: off)", 0, 10000),
    Param("knn_k", "int", 20, "neighbours of the online kNN monitor", 1, 1000),
    Param("log_every", "int", 1, "store metrics every N steps (and at every epoch's end); more keeps "
          "long runs' stores small, at the cost of coarser curves", 1, 10000),
    Param("online_probe", "bool", False, "train a linear probe on detached features during training "
          "and log online_linear_acc (solo-learn style; needs labels in the dataset)"),
    Param("gpu_data_fraction", "float", 0.5, "hold the dataset in GPU memory when it fits in this share of "
          "the free memory, else in pinned host memory with prefetched batches (no effect on CPU)", 0.0, 1.0),
    Param("channels_last", "bool", False, "channels-last memory format for the network (faster convolutions "
          "with CUDA tensor cores)"),
    Param("compile", "bool", False, "torch.compile the backbone (slow first steps, faster after)"),
    Param("sync_bn", "bool", False, "under torchrun: BatchNorm statistics over the global batch of all "
          "processes (SyncBatchNorm) instead of each process's slice"),
]

SECTIONS = ("method", "data", "backbone", "train")


def train_defaults() -> dict:
    return {p.name: p.default for p in TRAIN_PARAMS}


def _schema(section: str, ids: dict) -> list[Param]:
    if section == "train":
        return TRAIN_PARAMS
    kind = "dataset" if section == "data" else section
    return registry.get(kind, ids[section]).schema


def split_assignments(sets: dict, ids: dict) -> dict:
    """Route ``--set`` keys to their section. ``method.temperature=0.2`` is explicit; a bare
    key goes to the one section whose schema has it, else it is ambiguous or unknown."""
    out = {s: {} for s in SECTIONS}
    for key, value in sets.items():
        if "." in key and key.split(".", 1)[0] in SECTIONS:
            section, name = key.split(".", 1)
            out[section][name] = value
            continue
        owners = [s for s in SECTIONS if any(p.name == key for p in _schema(s, ids))]
        if not owners:
            raise ParamError(f"unknown parameter {key!r}: no setting of method {ids['method']}, "
                             f"dataset {ids['data']}, backbone {ids['backbone']} or training has that name")
        if len(owners) > 1:
            raise ParamError(f"parameter {key!r} is ambiguous; write {owners[0]}.{key}=... or {owners[1]}.{key}=...")
        out[owners[0]][key] = value
    return out


def build_config(data: str, method: str, backbone: str, train: dict | None = None,
                 sets: dict | None = None, params: dict | None = None, preset: str | None = None) -> dict:
    """Validated config. ``params`` maps section -> values (forms); ``sets`` are CLI pairs;
    ``preset`` (engine/training/presets.py) lays its values under all of them.
    Raises ParamError (one sentence) for a bad value, a method the backbone cannot serve or a
    dataset whose sample kind the method does not consume."""
    ids = {"data": data, "method": method, "backbone": backbone}
    for section, kind in (("data", "dataset"), ("method", "method"), ("backbone", "backbone")):
        registry.get(kind, ids[section])  # unknown id -> ParamError
    chosen = get_preset(preset) if preset else None
    values = {s: chosen.values_for(s, _schema(s, ids)) if chosen else {} for s in SECTIONS}
    for s in SECTIONS:
        values[s].update((params or {}).get(s, {}))
    values["train"].update(train or {})
    for section, vals in split_assignments(sets or {}, ids).items():
        values[section].update(vals)
    config = {
        "data": {"id": data, "params": registry.resolve_params("dataset", data, values["data"])},
        "method": {"id": method, "params": registry.resolve_params("method", method, values["method"])},
        "backbone": {"id": backbone, "params": registry.resolve_params("backbone", backbone, values["backbone"])},
        "train": resolve(TRAIN_PARAMS, values["train"], owner="training"),
    }
    refusal = registry.compatibility_error(method, backbone, config["method"]["params"])
    if refusal:  # refused here, before a run row exists (the worker would fail at build time)
        raise ParamError(refusal)
    why = data_mismatch(registry.get("method", method).cls, registry.get("dataset", data).cls)
    if why:
        raise ParamError(f"method {method} cannot pre-train on dataset {data}, which {why}")
    return config
