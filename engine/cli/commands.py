"""``python main.py SUBCOMMAND``: the headless face of Pretext (DESIGN.md, "Command line").

Bad input gets one line on stderr and exit code 2, never a traceback."""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from engine.data.dataset import DataError
from engine.params import ParamError
from engine.runs.paths import RunPaths, default_home
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError
from engine.store.run_record import Run
from engine.training.presets import DEFAULT_PRESET, PRESETS


class CliError(Exception):
    """Bad input: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not a usage block
        raise CliError(f"{message} (see {self.prog} --help)")


def _home(args) -> Path:
    """The home folder, checked: a file, or a path through a file, is refused in one sentence."""
    try:
        home = Path(args.home).expanduser() if args.home else default_home()
    except RuntimeError as e:  # "~nosuchuser/x": no such user to expand
        raise CliError(f"--home {args.home}: {e}") from None
    for folder in (home, *home.parents):
        if folder.exists():
            if not folder.is_dir():
                raise CliError(f"the home {home} cannot be used: {folder} is a file, not a folder")
            break
    return home


def _discover(home: Path, announce: bool = True):
    """Load the plugins; say in one line per file which home plugins were skipped untrusted."""
    from engine import registry

    registry.discover(home)
    for skipped in registry.untrusted(home) if announce else ():
        print(skipped.line(), file=sys.stderr)
    return registry


def _fmt_time(t) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(t)) if t else ""


def _duration(run: Run) -> str:
    if not run.started:
        return ""
    seconds = (run.ended or run.heartbeat or time.time()) - run.started
    return f"{seconds / 60:.1f} min"


# --- train / resume / stop ----------------------------------------------------------------------
def _check_data(config: dict, home: Path) -> None:
    """Refuse unusable data (or a device this machine lacks) before a run is created: no
    half-created runs."""
    from engine import registry
    from engine.training.device import pick_device

    pick_device(config["train"]["device"])  # ParamError: exit 2
    dataset = registry.create_dataset(config["data"]["id"], config["data"]["params"], RunPaths(home).cache)
    dataset.check()


def _cache_data(config: dict, home: Path) -> None:
    """Decode the run's dataset into the cache here, with a progress bar; the worker then
    opens the finished cache (a detached run's worker builds it without one)."""
    from engine import registry
    from engine.cli.progress import CountBar
    from engine.data.dataset import DataError

    bars: dict[str, CountBar] = {}
    try:
        dataset = registry.create_dataset(config["data"]["id"], config["data"]["params"], RunPaths(home).cache)
        dataset.prepare(lambda done, total, note: bars.setdefault(note, CountBar(note))(done, total, "images"))
    except DataError:
        return  # the worker meets it again, stores it and marks the run failed


def _run_foreground(home: Path, run_id: str) -> int:
    from engine import registry
    from engine.cli.progress import ProgressBar
    from engine.runs.worker import execute

    with Store(home) as store:
        run = store.get_run(run_id)
    key = registry.get("method", run.method).cls.accuracy_key
    print(f"run {run_id} ({run.name}) in {home}", file=sys.stderr)
    _cache_data(run.config, home)
    bar = ProgressBar(accuracy_key=key)
    status = execute(home, run_id, progress=bar)
    bar.close()
    with Store(home) as store:
        run, latest = store.get_run(run_id), store.latest(run_id)
    shown = " ".join(f"{k} {latest[k]:.4f}" for k in ("loss", key, "knn_acc") if k in latest)
    print(f"{run_id} {status}: {shown}")
    if status == RunStatus.FAILED:
        print(f"error: {run.error}", file=sys.stderr)
        return 1
    return 0


def cmd_train(args) -> int:
    from engine.params import parse_assignments
    from engine.training.config import build_config

    home = _home(args)
    _discover(home)
    train = {"epochs": args.epochs, "batch_size": args.batch_size, "device": args.device}
    train = {k: v for k, v in train.items() if v is not None}
    preset = PRESETS[args.preset]
    config = build_config(args.data or preset.plugins["data"], args.method or preset.plugins["method"],
                          args.backbone or preset.plugins["backbone"], train=train,
                          sets=parse_assignments(args.set), preset=preset.id)

    def create_run() -> str:
        _check_data(config, home)
        with Store(home) as store:
            return store.create_run(config, name=args.name or "")

    from engine.training.distributed import launched_by_torchrun

    if launched_by_torchrun():  # rank 0 creates the run, every rank trains (engine/runs/torchrun.py)
        from engine.runs.torchrun import train_all_ranks

        if args.detach:
            raise CliError("--detach cannot be used under torchrun")
        return train_all_ranks(home, create_run, _run_foreground)
    return _start(home, create_run(), args.detach)


def _start(home: Path, run_id: str, detach: bool) -> int:
    """Train ``run_id`` here with a progress bar, or (``detach``) in a background worker."""
    if not detach:
        return _run_foreground(home, run_id)
    from engine.runs.process_control import spawn_worker

    spawn_worker(home, run_id)
    print(run_id)
    return 0


def cmd_resume(args) -> int:
    from engine.runs.process_control import prepare_resume

    home = _home(args)
    _discover(home)
    from engine.training.distributed import launched_by_torchrun

    def requeue() -> str | None:
        with Store(home) as store:
            return prepare_resume(store, args.run, fresh=args.fresh)

    if launched_by_torchrun():  # every rank loads the run's checkpoint (engine/runs/torchrun.py)
        from engine.runs.torchrun import train_all_ranks

        def requeue_for_ranks() -> str:
            run_id = requeue()
            if run_id is None:
                raise CliError(f"run {args.run} was paused; its worker goes on, so torchrun has nothing to start")
            return run_id

        return train_all_ranks(home, requeue_for_ranks, _run_foreground)
    run_id = requeue()
    if run_id is None:
        print(f"run {args.run} was paused; its worker goes on")
        return 0
    return _start(home, run_id, args.detach)


def cmd_stop(args) -> int:
    from engine.runs.process_control import request_stop

    with Store(_home(args)) as store:
        request_stop(store, args.run)
        print(f"asked run {store.get_run(args.run).id} to stop")
    return 0


# --- runs / show / export -------------------------------------------------------------------------
def _run_summary(run: Run) -> dict:
    keys = ("id", "name", "status", "method", "backbone", "dataset", "created", "started", "ended",
            "device", "error", "parent_id", "notes", "tags", "step", "total_steps")
    values = run.to_dict()
    return {**{k: values[k] for k in keys}, "epochs": run.epochs, "latest": values["latest"],
            "damaged": run.damage}


def cmd_runs(args) -> int:
    with Store(_home(args)) as store:
        runs = store.list_runs(search=args.search or "", status=args.status or "")
    if args.json:
        print(json.dumps([_run_summary(r) for r in runs], indent=2))
        return 0
    if not runs:
        print("no runs yet: python main.py train")
        return 0
    head = f"{'id':20} {'name':28} {'status':10} {'method':12} {'backbone':10} {'data':8} {'created':16} {'loss':>8} {'acc':>6} {'knn':>6}"
    print(head)
    for r in runs:
        lt = r.latest
        acc = lt.get("contrastive_acc", next((v for k, v in lt.items() if k.endswith("_acc") and k != "knn_acc"), None))
        f = lambda v: f"{v:.3f}" if v is not None else "-"  # noqa: E731
        status = "damaged" if r.damage else r.status
        name = " ".join(r.name.split())  # one line per run, whatever the name holds
        print(f"{r.id:20} {name[:28]:28} {status:10} {r.method:12} {r.backbone:10} "
              f"{r.dataset:8} {_fmt_time(r.created):16} {f(lt.get('loss')):>8} {f(acc):>6} {f(lt.get('knn_acc')):>6}")
    return 0


def cmd_show(args) -> int:
    with Store(_home(args)) as store:
        run = store.get_run(args.run)
        run = dataclasses.replace(run, latest=store.latest(run.id))
        evals, artifacts = store.evals(run.id), store.artifacts(run.id)
    info = _run_summary(run)
    info["config"] = run.config
    info["evals"] = [{k: e[k] for k in ("protocol", "dataset", "params", "results", "time")} for e in evals]
    info["artifacts"] = [{k: a[k] for k in ("kind", "path", "step")} for a in artifacts]
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"{info['name']} ({info['id']}): {info['status']}" + (f" - {info['error']}" if info["error"] else ""))
    print(f"  {info['method']} / {info['backbone']} on {info['dataset']}, step {info['step']}/{info['total_steps']}, "
          f"device {info['device'] or '-'}, duration {_duration(run)}")
    if run.damage:
        print(f"  damaged: {run.damage}; it can be listed and deleted only")
    for section in ("data", "method", "backbone") if not run.damage else ():
        c = run.config[section]
        print(f"  {section}: {c['id']} " + ", ".join(f"{k}={v}" for k, v in c["params"].items()))
    if not run.damage:
        print("  train: " + ", ".join(f"{k}={v}" for k, v in run.config["train"].items()))
    for k, v in sorted(info["latest"].items()):
        print(f"  {k:24} {v:.6g}")
    for e in info["evals"]:
        print(f"  eval {e['protocol']} on {e['dataset']}: {json.dumps(e['results'])[:200]}")
    return 0


def cmd_plugins(args) -> int:
    if args.action == "trust":
        from engine.plugin_trust import trust

        if not args.file:
            raise CliError("plugins trust needs the plugin file, e.g. python main.py plugins trust mine.py")
        sha = trust(_home(args), args.file)
        print(f"trusted {args.file} (sha256 {sha[:12]}); it loads from now on, until it changes")
        return 0
    if args.file:
        raise CliError(f"unexpected {args.file!r}; did you mean: python main.py plugins trust {args.file}")
    registry = _discover(_home(args), announce=not args.json)
    data = {kind: [e.describe() for e in registry.entries(kind)] for kind in registry.KINDS}
    data["failures"] = [{"source": f.source, "reason": f.reason} for f in registry.failures()]
    data["untrusted"] = [{"path": str(u.path), "sha256": u.sha256, "changed": u.changed}
                         for u in registry.untrusted(_home(args))]
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    for kind in registry.KINDS:
        print(f"{kind}s:")
        for e in data[kind]:
            print(f"  {e['id']:20} {e['title']} - {e['citation']}")
    for f in data["failures"]:
        print(f"failed to load {f['source']}: {f['reason']}")
    return 0


def cmd_bench(args) -> int:
    from engine.training.bench import run_bench

    _discover(_home(args))
    from engine.params import parse_assignments

    result = run_bench(args.data, args.method, args.backbone, args.batch_size, args.device, args.steps,
                       parse_assignments(args.set), _home(args))
    print(json.dumps(result, indent=2))
    return 0


def build_parser() -> Parser:
    parser = Parser(prog="python main.py", description="Pretext: self-supervised learning workbench. "
                    "No subcommand opens the GUI.")
    sub = parser.add_subparsers(dest="command", parser_class=Parser)

    def add(name, func, help_):
        p = sub.add_parser(name, help=help_, description=help_)
        p.add_argument("--home", help="experiment home (default: PRETEXT_HOME or the user data folder)")
        p.set_defaults(func=func)
        return p

    p = add("train", cmd_train, "train a method (foreground with a progress bar, or --detach)")
    p.add_argument("--preset", default=DEFAULT_PRESET, choices=sorted(PRESETS),
                   help="values laid under --set and the options (default quick: learns in minutes on a CPU; "
                        "paper: every plugin's paper defaults)")
    p.add_argument("--data", help="dataset (default: the preset's, shapes)")
    p.add_argument("--method", help="method (default: the preset's, simclr)")
    p.add_argument("--backbone", help="backbone (default: the preset's)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"))
    p.add_argument("--name", default="")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any plugin or training parameter, e.g. temperature=0.2 or data.image_size=64")
    p.add_argument("--detach", action="store_true", help="start a background worker and return")
    p = add("resume", cmd_resume, "continue a stopped, crashed or failed run from its last checkpoint")
    p.add_argument("run")
    p.add_argument("--detach", action="store_true")
    p.add_argument("--fresh", action="store_true",
                   help="start again at step 0, discarding the run's metric history (when it has no checkpoint)")
    p = add("stop", cmd_stop, "ask a running run to checkpoint and stop")
    p.add_argument("run")
    p = add("runs", cmd_runs, "list runs")
    p.add_argument("--json", action="store_true")
    p.add_argument("--search", default="")
    p.add_argument("--status", default="")
    p = add("show", cmd_show, "one run: config, status, latest metrics, evals")
    p.add_argument("run")
    p.add_argument("--json", action="store_true")
    p = add("plugins", cmd_plugins, "every plugin with its parameter schema; 'plugins trust FILE' lets a "
            "<home>/plugins file load")
    p.add_argument("action", nargs="?", choices=("trust",), help="trust FILE: approve a home plugin file as it is now")
    p.add_argument("file", nargs="?", help="the <home>/plugins/*.py file to trust")
    p.add_argument("--json", action="store_true")
    p = add("bench", cmd_bench, "training throughput in images/s (prints JSON)")
    p.add_argument("--data", default="shapes")
    p.add_argument("--method", default="simclr")
    p.add_argument("--backbone", default="convnet")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    from engine.cli import cache_commands, eval_commands, run_commands, sweep_commands

    eval_commands.add_parsers(sub)
    run_commands.add_parsers(sub)
    sweep_commands.add_parsers(sub)
    cache_commands.add_parsers(sub)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush to the closed pipe is quiet."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def main(argv=None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise CliError("no subcommand given")
        args.home = _home(args)
        return args.func(args)
    except (CliError, ParamError, StoreError, DataError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # "show RUN | head -1": the reader has gone; end quietly, as cat does
        _silence_stdout()
        return 0
    except OSError as e:  # a file the user named cannot be read or written: say which, and why
        print(f"error: {e.filename or 'a file'}: {e.strerror or e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
