"""Layer-wise linear probes: one probe per backbone stage, on feature maps average-pooled to
a small grid and flattened, to show where in the network the representation is most linearly
separable (Zhang, Isola & Efros, 2016; Goyal et al., 2019 probe each ResNet stage this way)."""
from __future__ import annotations

from engine.evaluation.protocols.linear import probe_params
from engine.evaluation.protocols.param_lists import number_list
from engine.evaluation.protocols.split_features import class_count
from engine.params import Param


def stage_names(backbone, count: int) -> list[str]:
    """Names of the ``count`` maps of ``backbone.stages``: the ones the backbone declares
    (``stem, stage1, ...`` for CNNs, ``stage1, ...`` for a ViT's quarters), else
    ``stage1, ...`` when they do not match the maps' count."""
    names = list(backbone.stage_names)
    if len(names) == count:
        return names
    return [f"stage{i}" for i in range(1, count + 1)]


class LayerWise:
    id = "layerwise"
    title = "Layer-wise probes"
    summary = ("A linear probe on the output of each backbone stage (stem, stage 1, 2, ...), each "
               "feature map adaptively average-pooled to a small grid and flattened (the grid shrinks "
               "when the dimension would exceed a cap). One row of top-1/top-5 per stage.")
    citation = "Zhang, Isola & Efros, 2016 (ECCV); Goyal, Mahajan, Gupta & Misra, 2019 (ICCV)"
    params = [
        Param("grid", "int", 2, "pooled grid side g: each map becomes C x g x g numbers", 1, 8),
        Param("max_dims", "int", 4096, "largest feature dimension per stage (the grid shrinks to fit)", 16, 65536),
        *probe_params(),
    ]

    @staticmethod
    def run(ctx, p) -> dict:
        from engine.evaluation.protocols.probe import probe_run

        grid = number_list(p["wd_grid"], float, "wd_grid")
        ctx.phase(0.0, 0.4)
        train = ctx.stage_features("train", p["grid"], p["max_dims"])
        ctx.phase(0.4, 0.6)
        test = ctx.stage_features("test", p["grid"], p["max_dims"])
        train_y, test_y = ctx.labels("train"), ctx.labels("test")
        n_cls = class_count(ctx, test_y)
        rows = []
        names = stage_names(ctx.load_backbone(), len(train))
        for i, (name, tr, te) in enumerate(zip(names, train, test)):
            ctx.phase(0.6 + 0.4 * i / len(train), 0.6 + 0.4 * (i + 1) / len(train))
            out = probe_run(ctx, p, grid, tr, train_y, te, test_y, n_cls)
            rows.append({"stage": name, **out})
        return {"stages": rows}

    @staticmethod
    def headline(results: dict) -> dict:
        return {f"layer {r['stage']}": r["top1"] for r in results["stages"]}
