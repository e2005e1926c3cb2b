"""``main.py delete``, ``rename`` and ``tag``: the run housekeeping a tracker's users expect
from the command line (MLflow's ``runs delete``, W&B's tags).

``engine.cli.commands`` calls ``add_parsers(sub)`` and dispatches ``args.func(args)``; bad input
raises StoreError (one sentence, exit 2).
"""
from __future__ import annotations

from pathlib import Path

from engine.runs.status import ACTIVE
from engine.store.database import Store, StoreError
from engine.store.run_tags import format_tags, parse_tags

HOME_HELP = "experiment home (default: PRETEXT_HOME or the user data folder)"


def add_parsers(subparsers) -> None:
    p = subparsers.add_parser("export", help="write a run's metrics as CSV or JSON, or its backbone for "
                              "torchvision or timm", description="Write a run's metrics (--out FILE.csv|.json) "
                              "or its backbone's state dict (--backbone FILE --format torchvision|timm).")
    p.add_argument("run")
    p.add_argument("--out", help="metrics file (.csv or .json)")
    p.add_argument("--backbone", metavar="FILE", help="write the backbone's state dict here (with --format "
                                                       "torchvision or timm)")
    p.add_argument("--format", choices=("csv", "json", "torchvision", "timm"))
    p.add_argument("--home", help=HOME_HELP)
    p.set_defaults(func=cmd_export)
    p = subparsers.add_parser("delete", help="delete runs: their rows, folders and feature caches",
                              description="Delete runs with their metrics, evaluations, checkpoints and "
                                          "cached features. An active run is refused unless --force "
                                          "(its worker then stops without writing).")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run ids or names")
    p.add_argument("--force", action="store_true", help="also delete running, queued or paused runs")
    p.add_argument("--home", help=HOME_HELP)
    p.set_defaults(func=cmd_delete)
    p = subparsers.add_parser("rename", help="give a run a new name", description="Give a run a new name.")
    p.add_argument("run", metavar="RUN")
    p.add_argument("name")
    p.add_argument("--home", help=HOME_HELP)
    p.set_defaults(func=cmd_rename)
    p = subparsers.add_parser("tag", help="add (or --remove) tags on runs; no tags lists them",
                              description="Add tags to runs, remove them with --remove; with no tags, "
                                          "print each run's tags.")
    p.add_argument("runs", nargs="+", metavar="RUN", help="run ids or names, then --add/--remove tags")
    p.add_argument("--add", nargs="+", default=[], metavar="TAG")
    p.add_argument("--remove", nargs="+", default=[], metavar="TAG")
    p.add_argument("--home", help=HOME_HELP)
    p.set_defaults(func=cmd_tag)


def _home_of(args) -> Path:
    from engine.cli.commands import _home

    return _home(args)


def _store(args) -> Store:
    return Store(_home_of(args))


def cmd_delete(args) -> int:
    with _store(args) as store:
        runs = [store.get_run(r) for r in args.runs]  # every name resolves before anything goes
        active = [r for r in runs if r.status in ACTIVE]
        if active and not args.force:
            names = ", ".join(f"{r.name} ({r.id}, {r.status})" for r in active)
            raise StoreError(f"not deleting active runs {names}; stop them first or pass --force")
        for r in {r.id: r for r in runs}.values():
            store.delete_run(r.id)
            print(f"deleted {r.id} {r.name}")
    return 0


def cmd_rename(args) -> int:
    name = " ".join(args.name.split())
    if not name:
        raise StoreError("a run's name cannot be empty")
    with _store(args) as store:
        run = store.get_run(args.run)
        store.update_run(run.id, name=name)
        print(f"{run.id}: {run.name} -> {name}")
    return 0


def cmd_tag(args) -> int:
    add, remove = parse_tags(",".join(args.add)), set(parse_tags(",".join(args.remove)))
    with _store(args) as store:
        for run in [store.get_run(r) for r in args.runs]:
            tags = [t for t in parse_tags(run.tags) + add if t not in remove]
            if add or remove:
                store.update_run(run.id, tags=format_tags(tags))
            print(f"{run.id} {run.name}: {format_tags(tags) or '(no tags)'}")
    return 0


def cmd_export(args) -> int:
    from engine.store.export import export_metrics

    if args.backbone or args.format in ("torchvision", "timm"):
        return _export_backbone(args)
    if not args.out:
        raise StoreError("export needs --out FILE for the metrics, or --backbone FILE --format torchvision|timm")
    out = Path(args.out)
    fmt = args.format or ("json" if out.suffix.lower() == ".json" else "csv")
    with Store(_home_of(args)) as store:
        run = store.get_run(args.run)
        rows = export_metrics(store, run, out, fmt)
    print(f"wrote {rows} rows of run {run.id} to {out}")
    return 0


def _export_backbone(args) -> int:
    from engine.evaluation.protocols.context import checkpoint_file, load_backbone_state
    from engine.models.backbone_export import ExportFormat, export_backbone

    if not args.backbone or args.format not in ("torchvision", "timm"):
        raise StoreError("a backbone export needs both --backbone FILE and --format torchvision or timm")
    fmt = ExportFormat(args.format)
    with Store(_home_of(args)) as store:
        run = store.get_run(args.run)
        path, _ = checkpoint_file(store.run_dir(run.id))
        state = load_backbone_state(path)
    try:
        done = export_backbone(state, run.config["backbone"]["id"], Path(args.backbone), fmt)
    except ValueError as e:
        raise StoreError(str(e)) from None
    print(f"wrote {done.tensors} tensors of run {run.id}'s backbone ({path.name}) to {done.path}")
    print(done.how_to_load(fmt))
    return 0
