"""Linear probe: multinomial logistic regression on standardised frozen features, the
standard read-out of self-supervised representations (Zhang, Isola & Efros, 2016; Kolesnikov,
Zhai & Beyer, 2019), fit with L-BFGS and an L2 penalty chosen on a validation split carved
from the labeled train split (Radford et al., 2021), then refit on the whole train split."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import number_list, seed_param
from engine.evaluation.protocols.split_features import class_count, train_and_test
from engine.params import Param


def probe_params() -> list[Param]:
    """The probe's schema, shared with the layer-wise protocol."""
    return [
        Param("wd_grid", "list", "0,1e-5,1e-4,1e-3,1e-2,1e-1",
              "L2 penalties tried; the one with the best validation top-1 is kept", 0.0, 100.0),
        Param("val_fraction", "float", 0.2, "share of each class of the train split held out to pick the penalty",
              0.05, 0.5),
        Param("max_iter", "int", 100, "L-BFGS iterations per fit", 10, 5000),
        seed_param(),
    ]


class Linear:
    id = "linear"
    title = "Linear probe"
    summary = ("A multinomial logistic regression trained on frozen, standardised features of the "
               "labeled train split; its weight decay is picked on a held-out part of that split, then "
               "it is refit on all of it. Reports test top-1 and top-5 accuracy.")
    citation = "Kolesnikov, Zhai & Beyer, 2019 (CVPR); Radford et al., 2021 (L-BFGS probes)"
    params = probe_params()

    @staticmethod
    def run(ctx, p) -> dict:
        from engine.evaluation.protocols.probe import probe_run

        grid = number_list(p["wd_grid"], float, "wd_grid")
        train_f, train_y, test_f, test_y = train_and_test(ctx, 0.4, 0.6)
        return probe_run(ctx, p, grid, train_f, train_y, test_f, test_y, class_count(ctx, test_y))

    @staticmethod
    def headline(results: dict) -> dict:
        out = {"linear top-1": results["top1"]}
        if results.get("top5") is not None:
            out["linear top-5"] = results["top5"]
        return out
