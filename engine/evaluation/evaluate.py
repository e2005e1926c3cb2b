"""Evaluate a run's checkpoint with one protocol and store the result in the ``evals`` table
together with everything that makes the number comparable: the protocol's resolved
parameters, the evaluation dataset and its parameters, the input size and the checkpoint.

``evaluate(home, run_id, "knn")`` is what the CLI (``main.py eval``) and the GUI call.
``random_baseline`` makes the random-initialisation reference run; ``engine.evaluation.tables``
builds the comparison table.
"""
from __future__ import annotations

import copy
from pathlib import Path

from engine import registry
from engine.evaluation import protocols
from engine.evaluation.tables import comparison_table, render_table, write_table  # noqa: F401 -- re-exported
from engine.runs.paths import RunPaths
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError
from engine.store.run_record import RANDOM_METHOD


def evaluate(home, run_id: str, protocol: str, params: dict | None = None, data: dict | None = None,
             progress=None, device: str = "auto", readout=None, validation=None) -> dict:
    """Run ``protocol`` on run ``run_id`` (id or name) and store the result.

    params: protocol parameters (strings or typed values; defaults for the rest).
    data: ``{"id": dataset, "params": {...}}`` to evaluate on another dataset than the run's
        own; its images are resized to the run's input size.
    progress: ``progress(done, total, note)``, called as work advances (``total`` = 1000).
    readout: for clip data, a ``ClipReadout`` (frame or clip level, which labelling); the
        default reads frames against ``label``. Stored with the parameters (``level``, ``target``).
    validation: a ``Validation`` (fraction, seed) to score on a split carved from train instead
        of test (choosing settings); stored with the parameters, and the test split is not read.
    Returns the stored row: ``{"id", "run_id", "protocol", "dataset", "checkpoint", "params",
    "results", "headline"}``. Raises ParamError/StoreError/DataError with one sentence on
    bad input (unknown protocol, parameter, run without a checkpoint, data without labels)."""
    from engine.evaluation.protocols.context import EvalContext

    home = Path(home)
    cls = protocols.get(protocol)
    p = protocols.resolve_params(protocol, params)
    registry.discover(home)
    store = Store(home)
    try:
        run = store.get_run(run_id)
        run.check_usable()
        ctx = EvalContext(home, store, run, data, device, progress, readout, validation)
        results = cls.run(ctx, p)
        stored = {**p, "data": ctx.data_config, "image_size": ctx.image_size,
                  **(ctx.readout.to_json() if ctx.readout else {}),
                  **(validation.to_json() if validation else {})}
        eval_id = store.add_eval(ctx.run_id, protocol, ctx.dataset_id, stored, results, ctx.checkpoint)
    finally:
        store.close()
    return {"id": eval_id, "run_id": ctx.run_id, "protocol": protocol, "dataset": ctx.dataset_id,
            "checkpoint": ctx.checkpoint, "params": stored, "results": results, "headline": cls.headline(results)}


def _same_setup(a: dict, b: dict) -> bool:
    return (a["backbone"] == b["backbone"] and a["data"] == b["data"]
            and a["train"].get("seed") == b["train"].get("seed"))


def random_baseline(home, like_run: str) -> str:
    """The id of a pseudo-run holding a randomly initialised backbone of the same architecture,
    input size and training seed as ``like_run``, created on first use and reused after.

    It is an ordinary run row (status ``completed``, method ``random``, name ``random init
    (<backbone>)``) whose config is the original's with ``method = {"id": "random", "params":
    {}}``; its weights are saved as ``artifacts/backbone.pt`` like any finished run, so every
    protocol, the feature cache and the comparison table treat it like the others. It cannot
    be resumed or cloned into training ("random" is not a registered method)."""
    import time

    import torch

    from engine.evaluation.protocols.context import input_size
    from engine.training import checkpoint

    home = Path(home)
    registry.discover(home)
    store = Store(home)
    try:
        source = store.get_run(like_run)
        for run in store.list_runs(method=RANDOM_METHOD):
            if run.status == RunStatus.COMPLETED and _same_setup(run.config, source.config):
                return run.id
        config = copy.deepcopy(source.config)
        config["method"] = {"id": RANDOM_METHOD, "params": {}}
        size = input_size(registry.create_dataset(config["data"]["id"], config["data"]["params"], RunPaths(home).cache))
        torch.manual_seed(config["train"].get("seed", 0))
        backbone = registry.create_backbone(config["backbone"]["id"], config["backbone"]["params"], size)
        run_id = store.create_run(config, name=f"random init ({config['backbone']['id']})", status=RunStatus.COMPLETED)
        path = store.run_dir(run_id).backbone
        checkpoint.save_atomic({"backbone": backbone.state_dict(), "config": config}, path)
        store.add_artifact(run_id, "backbone", str(path))
        now = time.time()
        store.update_run(run_id, started=now, ended=now, heartbeat=now,
                         notes=f"random-initialisation baseline for runs like {source.id}")
        return run_id
    except KeyError as e:
        raise StoreError(f"run {like_run!r} has an incomplete config ({e}); no baseline can be built") from None
    finally:
        store.close()
