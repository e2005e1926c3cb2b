"""Compare the video methods with a random initialisation on ``moving_shapes``.

Every clip method pre-trains the same clip backbone (the small (2+1)-D ConvNet by default)
for the same epochs through the real worker, at the quick preset's clip settings; then its
frozen features are read out with the engine's protocols: frame-level weighted kNN on the
shape label (``knn``, frame level) and a clip-level linear probe on the motion label
(``linear``, clip level, ``motion_labels``), next to a ``random init`` backbone of the same
seed. Prints a Markdown table (mean +- s.d. over seeds) with the time per epoch.

``--select FRACTION`` is for choosing settings: both read-outs are scored on a stratified
validation split of that share of train (whole clips), and the test split is never read;
the reported table (without it) reads test once per row.

    python benchmarks/video_methods.py --methods shuffle_learn,cvrl --seeds 0,1 --epochs 5
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import registry  # noqa: E402
from engine.capabilities import SampleKind  # noqa: E402
from engine.data.validation_view import Validation  # noqa: E402
from engine.evaluation.evaluate import evaluate, random_baseline  # noqa: E402
from engine.evaluation.protocols.clip_readout import ClipReadout  # noqa: E402
from engine.params import ParamError, parse_assignments  # noqa: E402
from engine.runs.paths import RunPaths  # noqa: E402
from engine.runs.worker import execute  # noqa: E402
from engine.store.database import Store  # noqa: E402
from engine.training.config import build_config  # noqa: E402

RANDOM = "random init"


def assignment(item: str) -> tuple[str, str]:
    """argparse type of one KEY=VALUE item: a malformed one is argparse's one line, exit 2."""
    try:
        return next(iter(parse_assignments([item]).items()))
    except ParamError:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {item!r}") from None


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="", help="comma-separated clip method ids (default: all of them)")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--train-size", type=int, default=1000)
    ap.add_argument("--test-size", type=int, default=250)
    ap.add_argument("--backbone", default="r2plus1d")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--lr", type=float, help="learning rate (default: each method's preset or recipe)")
    ap.add_argument("--image-backbone", default="convnet", help="framewise: the image backbone on each frame")
    ap.add_argument("--data-set", action="append", default=[], type=assignment, metavar="KEY=VALUE",
                    help="a moving_shapes parameter, e.g. background=plain or motions=moves")
    ap.add_argument("--method-set", action="append", default=[], type=assignment, metavar="KEY=VALUE",
                    help="a method parameter for every method that has it")
    ap.add_argument("--backbone-set", action="append", default=[], type=assignment, metavar="KEY=VALUE",
                    help="a clip backbone parameter, e.g. pooling=concat for framewise")
    ap.add_argument("--select", type=float, metavar="FRACTION",
                    help="choose settings: score on a validation split of this share of train; test is not read")
    ap.add_argument("--home", help="experiment home (default: a temporary folder)")
    ap.add_argument("--out", help="also write the table here")
    return ap.parse_args(argv)


def readouts(home, run_id: str, args) -> dict:
    val = Validation(args.select) if args.select else None
    knn = evaluate(home, run_id, "knn", {"k": "20"}, validation=val)
    lin = evaluate(home, run_id, "linear", {"max_iter": "100"}, readout=ClipReadout.of("clip", "motion_labels"),
                   validation=val)
    return {"knn": knn["results"]["top1"]["20"], "linear": lin["results"]["top1"]}


def data_params(args) -> dict:
    return {"image_size": str(args.image_size), "train_size": str(args.train_size),
            "test_size": str(args.test_size), **dict(args.data_set)}


def train(home, method: str, seed: int, args) -> tuple[str, float]:
    """-> (run id, seconds per epoch) of one pre-training run."""
    sets = {**data_params(args), "width": str(args.width)}
    if args.backbone == "framewise":
        sets["image_backbone"] = args.image_backbone
    sets.update(args.backbone_set)
    own = {p.name for p in registry.get("method", method).cls.params}
    sets.update({k: v for k, v in args.method_set if k in own})
    train_cfg = {"epochs": args.epochs, "batch_size": args.batch_size, "seed": seed, "knn_every": 0}
    if args.lr:
        train_cfg["lr"] = args.lr
    config = build_config("moving_shapes", method, args.backbone, sets=sets, preset="quick", train=train_cfg)
    store = Store(home)
    run_id = store.create_run(config)
    store.close()
    start = time.perf_counter()
    status = execute(home, run_id)
    if status != "completed":
        raise SystemExit(f"{method} seed {seed} ended {status}")
    return run_id, (time.perf_counter() - start) / args.epochs


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{100 * values[0]:.1f}"
    return f"{100 * statistics.mean(values):.1f} ± {100 * statistics.stdev(values):.1f}"


def main(argv=None) -> int:
    args = parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="pretext-video-"))
    registry.discover(home)
    methods = [m for m in args.methods.split(",") if m] or [
        e.id for e in registry.entries("method") if e.cls.input_kind == SampleKind.CLIP]
    seeds = [int(s) for s in args.seeds.split(",")]
    known = {p.name for m in methods for p in registry.get("method", m).cls.params}
    unknown = [k for k, _ in args.method_set if k not in known]
    if unknown:
        print(f"error: no method benchmarked here has a parameter {unknown[0]!r}", file=sys.stderr)
        return 2
    own = {p.name for p in registry.get("backbone", args.backbone).cls.params}
    unknown = [k for k, _ in args.backbone_set if k not in own]
    if unknown:
        print(f"error: backbone {args.backbone} has no parameter {unknown[0]!r}", file=sys.stderr)
        return 2
    try:  # a bad value is one sentence too, before anything is generated or trained
        registry.resolve_params("backbone", args.backbone, dict(args.backbone_set))
        data = registry.resolve_params("dataset", "moving_shapes", data_params(args))
    except ParamError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    registry.create_dataset("moving_shapes", data, RunPaths(home).cache).prepare()  # generated before any timing
    rows: dict[str, dict] = {}
    for seed in seeds:  # every method at one seed first: an interrupted run still compares them all
        for method in methods:
            run_id, per_epoch = train(home, method, seed, args)
            got = readouts(home, run_id, args)
            row = rows.setdefault(method, {"knn": [], "linear": [], "epoch_s": []})
            row["knn"].append(got["knn"])
            row["linear"].append(got["linear"])
            row["epoch_s"].append(per_epoch)
            base = rows.setdefault(RANDOM, {"knn": [], "linear": [], "epoch_s": [], "seeds": set()})
            if seed not in base["seeds"]:
                base["seeds"].add(seed)
                got = readouts(home, random_baseline(home, run_id), args)
                base["knn"].append(got["knn"])
                base["linear"].append(got["linear"])
            print(f"{method} seed {seed}: knn {row['knn'][-1]:.3f} linear {row['linear'][-1]:.3f} "
                  f"({per_epoch:.1f} s/epoch); random init: knn {base['knn'][-1]:.3f} linear {base['linear'][-1]:.3f}",
                  file=sys.stderr, flush=True)
    lines = ["| method | kNN@20 frame-level, shape (%) | linear clip-level, motion (%) | s / epoch |",
             "|---|---|---|---|"]
    for name, row in sorted(rows.items(), key=lambda kv: kv[0] != RANDOM):
        epoch = f"{statistics.mean(row['epoch_s']):.2f}" if row["epoch_s"] else "–"
        lines.append(f"| {name} | {_cell(row['knn'])} | {_cell(row['linear'])} | {epoch} |")
    table = "\n".join(lines)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
