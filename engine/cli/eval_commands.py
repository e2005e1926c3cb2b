"""``main.py eval`` and ``main.py evals``: evaluate runs with the protocols of
``engine.evaluation.protocols`` and list or tabulate the stored results.

``engine.cli.commands`` calls ``add_parsers(sub)`` and dispatches ``args.func(args)``; handlers
return an exit code and raise ParamError/StoreError/DataError (one sentence) on bad input.
"""
from __future__ import annotations

import json
import sys
import time

from engine.params import ParamError, parse_assignments

TABLE_FORMATS = ("csv", "md", "tex")


def add_parsers(subparsers) -> None:
    from engine.evaluation import protocols

    names = ", ".join(protocols.PROTOCOLS)
    p = subparsers.add_parser(
        "eval", help="evaluate runs' checkpoints with evaluation protocols",
        description=f"Evaluate runs' checkpoints on frozen features (protocols: {names}); "
                    "results are stored with their parameters.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run ids or names")
    p.add_argument("--protocol", default="knn", help=f"comma-separated protocols ({names}), or all (every one but the audio-visual audio_probe and localisation); default knn")
    p.add_argument("--data", help="evaluate on this dataset instead of each run's own (its parameters: "
                                  "--set data.KEY=VALUE; on the run's own dataset the rest stay the run's); images are "
                                  "resized to the run's input size")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="a protocol parameter (k=20,200 or linear.max_iter=200) or data.KEY=VALUE")
    p.add_argument("--baseline", choices=("random",),
                   help="also evaluate a randomly initialised backbone of the same architecture")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--level", choices=("frame", "clip"), default="frame",
                   help="clip data: one sample per frame (default) or per clip")
    p.add_argument("--target", default="label",
                   help="clip data: the labelling to read out (label, or e.g. motion_labels)")
    p.add_argument("--validation", type=float, metavar="FRACTION",
                   help="score on a stratified validation split of this share of train instead of test "
                        "(choosing settings; the test split is not read)")
    p.add_argument("--json", action="store_true", help="print the stored results as JSON")
    p.add_argument("--progress", choices=("bar", "jsonl"), default="bar",
                   help="bar: a progress bar on stderr and one line per result (default); jsonl: one "
                        "JSON event per line on stdout, for programs (engine.evaluation.progress_events)")
    p.add_argument("--home", help="experiment home (default: PRETEXT_HOME or the user data folder)")
    p.set_defaults(func=cmd_eval)

    p = subparsers.add_parser("evals", help="list stored evaluation results or write the comparison table",
                              description="List stored evaluation results, or write the comparison table "
                                          "(rows = runs, columns = protocol headline figures, in percent).")
    p.add_argument("runs", nargs="*", metavar="RUN", help="only these runs (default: all)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--table", choices=TABLE_FORMATS, help="write the comparison table in this format")
    p.add_argument("--out", help="file for --table (default: standard output)")
    p.add_argument("--home", help="experiment home (default: PRETEXT_HOME or the user data folder)")
    p.set_defaults(func=cmd_evals)


def route_sets(sets: dict, protocol_ids: list[str], data_id: str | None) -> tuple[dict, dict]:
    """Send ``--set`` pairs to protocols and the evaluation dataset.

    ``knn.k=20`` goes to one protocol, ``data.image_size=32`` to the dataset, a bare key to
    every chosen protocol that has a parameter of that name. Returns (per-protocol values,
    dataset values)."""
    from engine.evaluation import protocols

    per = {pid: {} for pid in protocol_ids}
    data: dict = {}
    for key, value in sets.items():
        head, _, name = key.partition(".")
        if name and head == "data":
            if not data_id:
                raise ParamError(f"--set {key} needs --data DATASET (the dataset to evaluate on)")
            data[name] = value
        elif name and head in per:
            per[head][name] = value
        elif name and head in protocols.PROTOCOLS:
            raise ParamError(f"--set {key} is for protocol {head}, which is not among --protocol {','.join(protocol_ids)}")
        else:
            owners = [pid for pid in protocol_ids if any(p.name == key for p in protocols.get(pid).params)]
            if not owners:
                raise ParamError(f"unknown parameter {key!r}: no chosen protocol ({', '.join(protocol_ids)}) has it")
            for pid in owners:
                per[pid][key] = value
    return per, data


def _figures(headline: dict) -> str:
    parts = []
    for name, value in headline.items():
        if isinstance(value, (list, tuple)):
            parts.append(f"{name} {100 * value[0]:.1f}±{100 * value[1]:.1f}")
        else:
            parts.append(f"{name} {100 * value:.1f}")
    return ", ".join(parts) or "(no figure; see the artifact)"


def _targets(home, run_refs: list[str], baseline: str | None) -> list[str]:
    """Run ids to evaluate: the named runs, plus their random baselines when asked."""
    from engine.evaluation.evaluate import random_baseline
    from engine.store.database import Store

    store = Store(home)
    try:
        ids = [store.get_run(ref).id for ref in run_refs]
    finally:
        store.close()
    ids = list(dict.fromkeys(ids))
    if baseline == "random":
        for base in dict.fromkeys(random_baseline(home, rid) for rid in ids):
            if base not in ids:
                ids.append(base)
    return ids


def _plan(args) -> tuple[list[str], dict, dict | None]:
    """The checked protocol ids, their values and the evaluation data of ``args``; every
    value is checked before any work starts."""
    from engine.evaluation import protocols

    protocol_ids = list(dict.fromkeys(p.strip() for p in args.protocol.split(",") if p.strip()))
    if protocol_ids == ["all"]:
        protocol_ids = list(protocols.FOR_ALL)
    if not protocol_ids:
        raise ParamError("--protocol needs at least one protocol name")
    for pid in protocol_ids:
        protocols.get(pid)
    per, data_values = route_sets(parse_assignments(args.set), protocol_ids, args.data)
    for pid in protocol_ids:
        protocols.resolve_params(pid, per[pid])
    return protocol_ids, per, ({"id": args.data, "params": data_values} if args.data else None)


def cmd_eval(args) -> int:
    if args.progress == "jsonl" and args.json:
        raise ParamError("--json and --progress jsonl both write standard output; choose one")
    if args.progress != "jsonl":
        return _run_eval(args, None)
    from engine.data.dataset import DataError
    from engine.evaluation.progress_events import EvalFailed, EventWriter
    from engine.store.database import StoreError

    events = EventWriter()
    try:
        return _run_eval(args, events)
    except (ParamError, StoreError, DataError) as e:  # the reader gets main's one sentence too
        events.emit(EvalFailed(str(e)))
        raise
    except KeyboardInterrupt:
        events.emit(EvalFailed("interrupted"))
        raise
    except Exception as e:  # a bug or a plugin's error: its traceback still goes to stderr
        events.emit(EvalFailed(f"{type(e).__name__}: {e}"))
        raise


def _run_eval(args, events) -> int:
    """Evaluate; progress as a bar and result lines (``events`` None) or as events."""
    from engine.cli.progress import CountBar
    from engine.data.validation_view import Validation
    from engine.evaluation.evaluate import evaluate
    from engine.evaluation.progress_events import JobStarted, ResultStored
    from engine.evaluation.protocols.clip_readout import ClipReadout

    protocol_ids, per, data = _plan(args)
    readout = ClipReadout.of(getattr(args, "level", None), getattr(args, "target", None))
    validation = Validation(args.validation) if getattr(args, "validation", None) is not None else None
    jobs = [(rid, pid) for rid in _targets(args.home, args.runs, args.baseline) for pid in protocol_ids]
    if events:
        events.emit(JobStarted(len(jobs), list(dict.fromkeys(r for r, _ in jobs)), protocol_ids))
    results = []
    for index, (run_id, pid) in enumerate(jobs):
        progress = events.step(index, run_id, pid) if events else CountBar(f"{pid} {run_id}")
        row = evaluate(args.home, run_id, pid, per[pid], data, progress=progress, device=args.device,
                       readout=readout, validation=validation)
        results.append(row)
        if events:
            events.emit(ResultStored(index, row["run_id"], pid, row["id"], row["dataset"], row["checkpoint"],
                                     row["headline"]))
        elif not args.json:
            print(f"{row['run_id']} {pid} on {row['dataset']} ({row['checkpoint']}): {_figures(row['headline'])}")
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0


def cmd_evals(args) -> int:
    from engine.evaluation import protocols
    from engine.evaluation.tables import write_table
    from engine.store.database import Store

    if args.out and not args.table:
        raise ParamError("--out needs --table csv|md|tex")
    if args.table:
        text = write_table(args.home, args.table, args.out, args.runs or None)
        if args.out:
            print(f"wrote {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    store = Store(args.home)
    try:
        ids = {store.get_run(ref).id for ref in args.runs}
        rows = [e for e in store.evals() if not ids or e["run_id"] in ids]
    finally:
        store.close()
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    for e in rows:
        cls = protocols.PROTOCOLS.get(e["protocol"])
        figures = _figures(cls.headline(e["results"])) if cls else json.dumps(e["results"])[:80]
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e["time"]))
        print(f"{e['id']:>4}  {e['run_id']}  {e['protocol']:<9} {e['dataset']:<10} {when}  {figures}")
    if not rows:
        print("no evaluations stored", file=sys.stderr)
    return 0
