"""The queue's automatic evaluation of a trained sweep run:
``python -m engine.sweeps.auto_eval RUN --home H --slot S``.

Each finished run is evaluated with the sweep's protocols (by default linear SVMs and kNN on
frozen features, as Goyal, Mahajan, Gupta & Misra (2019) evaluate their scaling points) through
``engine.evaluation.evaluate``, so the results land in ``evals`` like any other evaluation. The
first evaluation of a sweep also builds its random-initialisation reference
(``engine.evaluation.evaluate.random_baseline``) and evaluates it the same way: the horizontal
line of the scaling plot. A sweep with a data axis evaluates every point and the reference
on one labeled set, the base configuration's (``spec.evaluation_data``). A protocol that fails is recorded on the queue entry; the others
still run. The process frees its slot when it ends.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.runs.queue_stage import QueueStage
from engine.store import queue_table
from engine.store.database import Store, StoreError
from engine.store.sweep_record import Sweep, get_sweep, set_reference

BUILDING = "building:"   # sweeps.reference while a process builds the reference run


def _evaluate_all(home: Path, run_id: str, sweep: Sweep, done: set[str]) -> list[str]:
    """Evaluate ``run_id`` with every protocol of ``sweep`` not in ``done``; the errors, one sentence each."""
    from engine.evaluation.evaluate import evaluate
    from engine.sweeps.spec import evaluation_data

    errors = []
    data = evaluation_data(sweep.spec)  # a data axis: one fixed labeled set for every point
    for protocol in sweep.protocols:
        if protocol in done:
            continue
        try:
            result = evaluate(home, run_id, protocol, sweep.spec.protocol_params.get(protocol), data=data)
            print(f"{run_id} {protocol}: {result['headline']}", flush=True)
        except Exception as e:  # noqa: BLE001 -- one protocol's failure must not cost the others
            errors.append(f"{protocol}: {e}")
            print(f"{run_id} {protocol} failed: {type(e).__name__}: {e}", flush=True)
    return errors


def _stored_protocols(store: Store, run_id: str) -> set[str]:
    return {e["protocol"] for e in store.evals(run_id)}


def ensure_reference(home: Path, store: Store, sweep: Sweep, like_run: str) -> list[str]:
    """Build and evaluate the sweep's random-init reference once (the first process to claim it)."""
    from engine.evaluation.evaluate import random_baseline

    if sweep.reference or not set_reference(store, sweep.id, BUILDING + like_run, ""):
        return []
    try:
        reference = random_baseline(home, like_run)
    except Exception as e:  # noqa: BLE001
        set_reference(store, sweep.id, "", BUILDING + like_run)
        return [f"random-init reference: {e}"]
    errors = _evaluate_all(home, reference, sweep, _stored_protocols(store, reference))
    set_reference(store, sweep.id, reference, BUILDING + like_run)
    return [f"reference {e}" for e in errors]


def run(home: Path, run_id: str, slot: str) -> int:
    store = Store(home)
    try:
        item = next((i for i in queue_table.held(store) if i.run_id == run_id and i.slot == slot), None)
        if item is None:
            print(f"run {run_id} holds no slot {slot} in the queue; nothing to do", file=sys.stderr)
            return 2
        errors = []
        try:
            run_ = store.get_run(run_id)
            sweep = get_sweep(store, run_.sweep_id)
            errors = _evaluate_all(home, run_id, sweep, _stored_protocols(store, run_id))
            errors += ensure_reference(home, store, sweep, run_id)
        except StoreError as e:
            errors.append(str(e))
        queue_table.release(store, item, QueueStage.DONE, "; ".join(errors))
        return 1 if errors else 0
    finally:
        store.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.sweeps.auto_eval", description=__doc__.splitlines()[0])
    parser.add_argument("run_id")
    parser.add_argument("--home", required=True)
    parser.add_argument("--slot", required=True)
    args = parser.parse_args(argv)
    from engine import registry

    registry.discover(Path(args.home))
    return run(Path(args.home), args.run_id, args.slot)


if __name__ == "__main__":
    sys.exit(main())
