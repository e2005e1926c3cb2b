"""A sweep's description (``SweepSpec``) and its expansion into validated run configurations.

Every combination of the axes is built with ``engine.training.config.build_config``, the same
validation a single run gets, before anything is stored: one invalid combination refuses the
whole sweep with one sentence that names it (``plan``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from engine.params import ParamError
from engine.sweeps.axes import Axis, Combine, combinations, count
from engine.training.presets import DEFAULT_PRESET

# Goyal, Mahajan, Gupta & Misra (2019) evaluate every scaling point with linear SVMs on frozen
# features; kNN is the cheap read-out beside them.
DEFAULT_PROTOCOLS = ("svm", "knn")


@dataclass(frozen=True)
class SweepSpec:
    method: str
    data: str = "shapes"
    backbone: str = "convnet"
    preset: str | None = DEFAULT_PRESET
    sets: dict = field(default_factory=dict)        # base values: "section.key" (or bare key) -> value
    axes: tuple[Axis, ...] = ()
    combine: Combine = Combine.GRID
    protocols: tuple[str, ...] = DEFAULT_PROTOCOLS
    protocol_params: dict = field(default_factory=dict)   # protocol id -> {param: value}
    concurrency: int = 0                            # most runs of this sweep at once (0: every free slot)
    name: str = ""

    @property
    def run_count(self) -> int:
        return count(list(self.axes), self.combine)

    def title(self) -> str:
        return self.name or " × ".join([self.method, *(a.key for a in self.axes)])

    def to_json(self) -> dict:
        return {"method": self.method, "data": self.data, "backbone": self.backbone, "preset": self.preset,
                "sets": dict(self.sets), "axes": [a.to_json() for a in self.axes], "combine": self.combine.value,
                "protocols": list(self.protocols), "protocol_params": dict(self.protocol_params),
                "concurrency": self.concurrency, "name": self.name}

    @classmethod
    def from_json(cls, d: dict) -> SweepSpec:
        return cls(method=d["method"], data=d["data"], backbone=d["backbone"], preset=d.get("preset"),
                   sets=dict(d.get("sets", {})), axes=tuple(Axis.from_json(a) for a in d.get("axes", [])),
                   combine=Combine.parse(d.get("combine", "grid")), protocols=tuple(d.get("protocols", ())),
                   protocol_params=dict(d.get("protocol_params", {})), concurrency=int(d.get("concurrency", 0)),
                   name=d.get("name", ""))


@dataclass(frozen=True)
class PlannedRun:
    config: dict          # validated (build_config)
    axis_values: dict     # axis key -> the run's resolved (typed) value
    name: str


def _point_name(point: dict, short: bool = True) -> str:
    return ", ".join(f"{k.split('.')[-1] if short else k}={v}" for k, v in point.items())


def _build(spec: SweepSpec, point: dict) -> dict:
    from engine.training.config import build_config

    ids = {"data": spec.data, "method": spec.method, "backbone": spec.backbone}
    sets = dict(spec.sets)
    for key, value in point.items():
        if key in ids:
            ids[key] = str(value)
        else:
            sets[key] = value
    return build_config(ids["data"], ids["method"], ids["backbone"], sets=sets, preset=spec.preset)


def evaluation_data(spec: SweepSpec) -> dict | None:
    """The one labeled dataset every run of a sweep with a data axis (and its random-init
    reference) is evaluated on: the base configuration's data, ``{"id", "params"}``; None
    without a data-parameter axis (each run is evaluated on its own data). Goyal, Mahajan,
    Gupta & Misra (2019) vary the pre-training images and keep the SVM's labeled set fixed;
    were the probe's train split to grow with the axis, more labels would pass for better
    features (on ``shapes``, random init alone rises from 0.164 to 0.265 with 250 -> 1,000 labels)."""
    if not any(a.key.startswith("data.") for a in spec.axes):
        return None
    base = _build(spec, {})
    return {"id": base["data"]["id"], "params": dict(base["data"]["params"])}


def resolved_value(config: dict, key: str):
    """The value axis ``key`` took in a built ``config`` (typed by the schema)."""
    from engine.training.config import split_assignments

    if key in ("data", "method", "backbone"):
        return config[key]["id"]
    ids = {s: config[s]["id"] for s in ("data", "method", "backbone")}
    routed = split_assignments({key: None}, ids)
    section = next(s for s, v in routed.items() if v)
    name = next(iter(routed[section]))
    return config[section]["params"][name] if section != "train" else config["train"][name]


def _section_key(spec: SweepSpec, key: str) -> str:
    from engine.training.config import SECTIONS, split_assignments

    if key in ("data", "method", "backbone") or key.split(".", 1)[0] in SECTIONS:
        return key
    routed = split_assignments({key: None}, {"data": spec.data, "method": spec.method, "backbone": spec.backbone})
    return next(f"{section}.{key}" for section, values in routed.items() if values)


def normalize(spec: SweepSpec) -> SweepSpec:
    """``spec`` with every axis key written ``section.name`` (``permutations`` ->
    ``method.permutations``), as it is stored and plotted; ParamError for an unknown or
    ambiguous bare key."""
    from dataclasses import replace

    axes = tuple(Axis(_section_key(spec, a.key), a.values) for a in spec.axes)
    return replace(spec, axes=axes)


def check_protocols(spec: SweepSpec) -> None:
    from engine.evaluation import protocols

    for pid in spec.protocols:
        protocols.resolve_params(pid, spec.protocol_params.get(pid))
    unknown = set(spec.protocol_params) - set(spec.protocols)
    if unknown:
        raise ParamError(f"parameters given for protocol {min(unknown)}, which the sweep does not use")


def plan(spec: SweepSpec) -> list[PlannedRun]:
    """Every run of the sweep, each config validated; ParamError (one sentence naming the
    combination) if any is invalid, so a sweep is stored whole or not at all."""
    if spec.concurrency < 0:
        raise ParamError(f"concurrency must be 0 (every free slot) or more, not {spec.concurrency}")
    check_protocols(spec)
    spec = normalize(spec)
    out = []
    for point in combinations(list(spec.axes), spec.combine):
        try:
            config = _build(spec, point)
        except ParamError as e:
            where = f"the combination {_point_name(point, short=False)}" if point else "the base configuration"
            raise ParamError(f"{where} is invalid: {e}") from None
        values = {k: resolved_value(config, k) for k in point}
        base = spec.name or spec.method
        out.append(PlannedRun(config, values, f"{base} {_point_name(values)}".strip()))
    return out
