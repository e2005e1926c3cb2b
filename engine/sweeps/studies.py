"""The lecture's scaling studies as sweep presets, after Goyal, Mahajan, Gupta & Misra (2019),
"Scaling and Benchmarking Self-Supervised Visual Representation Learning" (ICCV).

Goyal et al. scale two pretext tasks along two axes: the *data axis* (pre-training on 1M, 10M
and 100M YFCC images) and the *problem-complexity axis* (for Jigsaw the size |P| of the
permutation set, 100 to 10,000). Every point is read out with linear SVMs on frozen features.
The presets here scale that down to the built-in ``shapes`` data on a CPU: data sizes 250 to
4,000 images (16x, plotted on a log axis like the paper's), Jigsaw permutation sets of 10 to
1,000 (the plugin's range), colorization's number Q of ab colour bins 8 to 313 (the colour
quantisation's size), each point repeated over three training seeds (mean ± s.d.).
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.params import ParamError
from engine.sweeps.axes import Axis
from engine.sweeps.spec import SweepSpec

SEEDS = Axis("train.seed", (0, 1, 2))
DATA_SIZES = Axis("data.train_size", (250, 1000, 4000))
COMPLEXITY = {"jigsaw": Axis("method.permutations", (10, 30, 100, 300, 1000)),
              "colorization": Axis("method.bins", (8, 32, 128, 313))}


@dataclass(frozen=True)
class Study:
    id: str
    title: str
    summary: str
    method: str
    axes: tuple[Axis, ...]

    def spec(self, **overrides) -> SweepSpec:
        """The study as a sweep on the quick preset's shapes and ConvNet (``overrides``: any
        other SweepSpec field, e.g. ``sets`` for fewer epochs)."""
        fields = {"method": self.method, "axes": self.axes, "name": self.title, **overrides}
        return SweepSpec(**fields)


def _studies() -> dict[str, Study]:
    out = {}
    for method, complexity in COMPLEXITY.items():
        knob = "permutation-set size |P|" if method == "jigsaw" else "number of ab colour bins Q"
        out[f"{method}-data"] = Study(
            f"{method}-data", f"{method}: data axis",
            f"{method} pre-trained on {', '.join(map(str, DATA_SIZES.values))} shapes images, three seeds each "
            "(Goyal et al. 2019, data axis).", method, (DATA_SIZES, SEEDS))
        out[f"{method}-complexity"] = Study(
            f"{method}-complexity", f"{method}: complexity axis",
            f"{method} with its {knob} at {', '.join(map(str, complexity.values))}, three seeds each "
            "(Goyal et al. 2019, problem-complexity axis).", method, (complexity, SEEDS))
        out[f"{method}-data-complexity"] = Study(
            f"{method}-data-complexity", f"{method}: data × complexity",
            f"{method} over data size and {knob}, one curve per complexity (Goyal et al. 2019, Fig. 2-3); "
            "one seed.", method, (DATA_SIZES, complexity))
    return out


STUDIES = _studies()


def get_study(study_id: str) -> Study:
    try:
        return STUDIES[study_id]
    except KeyError:
        raise ParamError(f"unknown study {study_id!r} (known: {', '.join(STUDIES)})") from None
