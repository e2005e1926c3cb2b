"""``main.py sweep ...`` and ``main.py queue ...``: scaling studies from the command line
(engine/sweeps, engine/runs/queue.py).

    python main.py sweep create --method jigsaw --axis data.train_size=500,1000,2000 --axis seed=0,1,2
    python main.py sweep create --study jigsaw-complexity --set epochs=5
    python main.py sweep list | show ID | pause ID | resume ID | cancel ID
    python main.py queue run [--slots cpu=1] [--until-empty] | list | move RUN POSITION

Handlers return an exit code and raise ParamError/StoreError (one sentence) on bad input.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from engine.params import ParamError, parse_assignments

SWEEP_ACTIONS = ("create", "list", "show", "pause", "resume", "cancel")
QUEUE_ACTIONS = ("run", "list", "move")


class LatePositionals:
    """argparse fills ``sweep show --home H 7``'s optional positionals before it meets ``7``;
    this parser hands such leftovers to the positionals still empty, in order."""

    late: tuple = ()   # (dest, type) of the optional positionals after the action

    def parse_known_args(self, args=None, namespace=None):
        ns, extras = super().parse_known_args(args, namespace)
        for dest, kind in self.late:
            if getattr(ns, dest, None) is None and extras and not extras[0].startswith("-"):
                value = extras.pop(0)
                try:
                    setattr(ns, dest, kind(value))
                except ValueError:
                    self.error(f"argument {dest}: invalid {kind.__name__} value: {value!r}")
        return ns, extras


def _add(subparsers, name, func, help_, late=()):
    p = subparsers.add_parser(name, help=help_, description=help_)
    p.__class__ = type("LateParser", (LatePositionals, type(p)), {"late": late})
    p.add_argument("--home", help="experiment home (default: PRETEXT_HOME or the user data folder)")
    p.set_defaults(func=func)
    return p


def add_parsers(subparsers) -> None:
    p = _add(subparsers, "sweep", cmd_sweep, "create, list, show and steer sweeps (a base configuration plus axes)",
             late=(("sweep", str),))
    p.add_argument("action", choices=SWEEP_ACTIONS)
    p.add_argument("sweep", nargs="?", help="the sweep's number (show, pause, resume, cancel)")
    p.add_argument("--study", help="a study preset (Goyal et al. 2019): " + ", ".join(_study_ids()))
    p.add_argument("--method", help="method of every run (default: the study's)")
    p.add_argument("--data", default="shapes")
    p.add_argument("--backbone", default="convnet")
    p.add_argument("--preset", default="quick", help="values laid under --set (quick or paper)")
    p.add_argument("--axis", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="a parameter and its values, e.g. data.train_size=500,1000 or seed=0,1,2 (repeatable)")
    p.add_argument("--zip", action="store_true", help="take the axes in step instead of every combination")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a base value of every run")
    p.add_argument("--protocol", default="svm,knn",
                   help="protocols every finished run is evaluated with (comma-separated, or none); default svm,knn")
    p.add_argument("--concurrency", type=int, default=0, help="most runs of this sweep at once (default: every free slot)")
    p.add_argument("--name", default="")
    p.add_argument("--metric", help="show: the metric of the scaling table (default: the first evaluation figure)")
    p.add_argument("--json", action="store_true")

    p = _add(subparsers, "queue", cmd_queue, "run the queue's scheduler, list the queue, or move a run in it",
             late=(("run", str), ("position", int)))
    p.add_argument("action", choices=QUEUE_ACTIONS)
    p.add_argument("run", nargs="?", help="move: the run to move")
    p.add_argument("position", nargs="?", type=int, help="move: its new 1-based place among the waiting runs")
    p.add_argument("--slots", help="run: concurrent runs per device, e.g. cpu=2 or cuda:0=1,cuda:1=1 "
                                   "(default: one per GPU, else one on the CPU)")
    p.add_argument("--until-empty", action="store_true", help="run: end once nothing is left to start or evaluate")
    p.add_argument("--poll", type=float, default=1.0, help="run: seconds between scheduler ticks")
    p.add_argument("--executor", choices=("local", "ray"), default="local",
                   help="run: local processes (default), or each run a task on a Ray cluster (pip install ray)")
    p.add_argument("--address", default="auto", help="with --executor ray: the cluster (auto, ray://HOST:PORT, "
                                                     "or local to start one in this process)")
    p.add_argument("--json", action="store_true")


def _study_ids() -> list[str]:
    from engine.sweeps.studies import STUDIES

    return list(STUDIES)


# --- sweep ------------------------------------------------------------------------------------------
def build_spec(args):
    from engine.sweeps.axes import Combine, parse_axis
    from engine.sweeps.spec import SweepSpec
    from engine.sweeps.studies import get_study

    protocols = () if args.protocol.strip().lower() == "none" else tuple(
        p.strip() for p in args.protocol.split(",") if p.strip())
    fields = {"data": args.data, "backbone": args.backbone, "preset": args.preset,
              "sets": parse_assignments(args.set), "combine": Combine.ZIP if args.zip else Combine.GRID,
              "protocols": protocols, "concurrency": args.concurrency, "name": args.name}
    axes = tuple(parse_axis(a) for a in args.axis)
    if args.study:
        study = get_study(args.study)
        fields["name"] = args.name or study.title
        return study.spec(**fields, axes=axes or study.axes, **({"method": args.method} if args.method else {}))
    if not args.method:
        raise ParamError("sweep create needs --method (or --study), e.g. --method jigsaw")
    if not axes:
        raise ParamError("sweep create needs at least one --axis KEY=V1,V2,... (e.g. --axis seed=0,1,2)")
    return SweepSpec(method=args.method, axes=axes, **fields)


def _create(args, home: Path) -> int:
    from engine import registry
    from engine.store.database import Store
    from engine.store.sweep_record import create_sweep
    from engine.sweeps.spec import plan

    registry.discover(home)
    spec = build_spec(args)
    planned = plan(spec)  # ParamError: nothing stored
    with Store(home) as store:
        sweep_id = create_sweep(store, spec, planned)
    if args.json:
        print(json.dumps({"sweep": sweep_id, "runs": len(planned)}))
    else:
        print(f"sweep {sweep_id}: {len(planned)} runs queued ({spec.title()}); "
              f"start them with: python main.py queue run --home {home}")
    return 0


def _sweep_row(sweep, runs) -> dict:
    from engine.store.sweep_record import status_counts

    counts = {str(k): v for k, v in status_counts(runs).items()}
    return {"id": sweep.id, "name": sweep.name, "status": str(sweep.status), "method": sweep.method,
            "created": sweep.created, "runs": sweep.runs, "by_status": counts,
            "axes": [a.to_json() for a in sweep.spec.axes], "protocols": list(sweep.protocols),
            "reference": sweep.reference}


def _list(args, store) -> int:
    from engine.store.sweep_record import list_sweeps, sweep_runs

    rows = [_sweep_row(s, sweep_runs(store, s.id)) for s in list_sweeps(store)]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no sweeps yet: python main.py sweep create --help")
    for r in rows:
        done = ", ".join(f"{v} {k}" for k, v in sorted(r["by_status"].items()))
        print(f"{r['id']:>4}  {r['status']:9}  {r['name'][:48]:48}  {r['runs']:>4} runs  {done}")
    return 0


def _show(args, store) -> int:
    from engine.store import queue_table
    from engine.store.sweep_record import get_sweep, sweep_runs
    from engine.sweeps.scaling import metric_names, scaling

    sweep = get_sweep(store, args.sweep)
    runs = sweep_runs(store, sweep.id)
    stages = {i.run_id: i for i in queue_table.items(store, sweep.id)}
    info = _sweep_row(sweep, runs)
    info["spec"] = sweep.spec.to_json()
    info["run_list"] = [{"id": r.id, "status": str(r.status), "axis_values": r.axis_values,
                         "stage": str(stages[r.id].stage) if r.id in stages else "",
                         "queue_error": stages[r.id].error if r.id in stages else "", "error": r.error or ""}
                        for r in runs]
    names = metric_names(store, sweep.id)
    metric = args.metric or next(iter(names), None)
    curves = scaling(store, sweep.id, metric) if metric and sweep.spec.axes else None
    if args.json:
        info["scaling"] = None if curves is None else curves.csv_text()
        print(json.dumps(info, indent=2))
        return 0
    axes = "; ".join(f"{a.key} = {', '.join(map(str, a.values))}" for a in sweep.spec.axes)
    print(f"sweep {sweep.id} ({sweep.name}): {sweep.status}, {sweep.runs} runs, {sweep.spec.combine} of {axes}")
    print(f"  {sweep.method} / {sweep.spec.backbone} on {sweep.spec.data}, preset {sweep.spec.preset}, "
          f"evaluated with {', '.join(sweep.protocols) or 'nothing'}{_fixed_labels(sweep.spec)}")
    for r in info["run_list"]:
        point = ", ".join(f"{k}={v}" for k, v in r["axis_values"].items())
        why = r["error"] or r["queue_error"]
        print(f"  {r['id']:20} {r['status']:10} {r['stage']:6} {point}" + (f"  ({why[:80]})" if why else ""))
    if curves is not None:
        print(f"  {metric} by {curves.x_axis} (mean, s.d., runs):")
        for line in curves.csv_text().splitlines()[1:]:
            print("    " + line.replace(",", "  "))
    return 0


def cmd_sweep(args) -> int:
    from engine.store.database import Store
    from engine.sweeps import control

    home = Path(args.home)
    if args.action == "create":
        if args.sweep:
            raise ParamError(f"sweep create takes no sweep number (got {args.sweep!r})")
        return _create(args, home)
    with Store(home) as store:
        if args.action == "list":
            return _list(args, store)
        if not args.sweep:
            raise ParamError(f"sweep {args.action} needs the sweep's number, e.g. python main.py sweep {args.action} 1")
        if args.action == "show":
            return _show(args, store)
        if args.action == "cancel":
            sweep, stopped = control.cancel(store, args.sweep)
            print(f"sweep {sweep.id} cancelled; asked {stopped} runs to stop")
            return 0
        sweep = getattr(control, args.action)(store, args.sweep)
        print(f"sweep {sweep.id} is {sweep.status}")
    return 0


# --- queue ---------------------------------------------------------------------------------------
def _executor(args):
    if args.executor != "ray":
        return None
    from engine.runs.ray_executor import RayExecutor

    return RayExecutor(args.address)


def _report(tick) -> None:
    for run_id, stage, slot in tick.started:
        print(f"{time.strftime('%H:%M:%S')} {'training' if stage == 'train' else 'evaluating'} {run_id} on {slot}",
              flush=True)
    for sweep_id in tick.completed_sweeps:
        print(f"{time.strftime('%H:%M:%S')} sweep {sweep_id} completed", flush=True)


def _queue_list(args, store) -> int:
    from engine.store import queue_table

    rows = [i for i in queue_table.items(store, pending_only=True)]
    if args.json:
        print(json.dumps([{"run_id": i.run_id, "sweep": i.sweep_id, "stage": str(i.stage), "slot": i.slot}
                          for i in rows], indent=2))
        return 0
    if not rows:
        print("the queue is empty")
    for n, i in enumerate(rows, 1):
        print(f"{n:>4}  {i.run_id:20} sweep {i.sweep_id!s:>4}  {i.stage:6} {i.slot or 'waiting'}")
    return 0


def cmd_queue(args) -> int:
    from engine.store import queue_table
    from engine.store.database import Store

    home = Path(args.home)
    if args.action == "run":
        from engine.runs.queue import Scheduler
        from engine.runs.slots import parse_slots

        slots = parse_slots(args.slots) if args.slots else None
        if not args.poll > 0:
            raise ParamError(f"--poll must be a positive number of seconds, not {args.poll}")
        scheduler = Scheduler(home, slots, _executor(args))
        print(f"scheduling on {', '.join(scheduler.slots)} (Ctrl+C ends the scheduler; started runs go on)",
              file=sys.stderr, flush=True)
        try:
            scheduler.run(until_empty=args.until_empty, poll=args.poll, report=_report)
        finally:
            scheduler.close()
        return 0
    with Store(home) as store:
        if args.action == "list":
            return _queue_list(args, store)
        if not args.run or args.position is None:
            raise ParamError("queue move needs the run and its new place, e.g. python main.py queue move RUN 1")
        order = queue_table.move(store, store.get_run(args.run).id, args.position)
        print(f"run {args.run} is now number {order.index(store.get_run(args.run).id) + 1} of {len(order)} waiting")
    return 0


def _fixed_labels(spec) -> str:
    """", on one labeled set (train_size=1000)" for a sweep with a data axis, else ""."""
    from engine.sweeps.spec import evaluation_data

    data = evaluation_data(spec)
    if data is None:
        return ""
    fixed = ", ".join(f"{a.key.split('.', 1)[1]}={data['params'][a.key.split('.', 1)[1]]}"
                      for a in spec.axes if a.key.startswith("data."))
    return f", every point on one labeled set ({fixed})"
