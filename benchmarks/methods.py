"""Compare self-supervised methods under one budget on ``shapes``.

Each method pre-trains the same backbone for the same epochs through the real worker
(``engine.worker.execute``), then its frozen features are read out with the weighted kNN
classifier (Wu et al., 2018) and, where the linear-probe protocol is available, a linear
probe, next to an untrained ``random init`` row and the ``supervised`` reference. Prints a
Markdown table and writes it to ``--out``. With no arguments it reproduces the table in
docs/methods.md (about an hour on a 2-core CPU): its budget is the default, and so are the
data and method settings that page explains (``TABLE_*_SETTINGS``; ``--recipe-defaults``
drops them). Settings are chosen with ``--select``: every figure is then read on a
validation split carved from train (stratified, seeded; ``--val-fraction``) and the test
split is never loaded; a reported table (no ``--select``) reads test once per row.

    python benchmarks/methods.py --methods rotation,jigsaw --epochs 1 --out table.md
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import registry  # noqa: E402
from engine.capabilities import Capability, SampleKind  # noqa: E402
from engine.data.tensors import images_to_tensor  # noqa: E402
from engine.evaluation.protocols.probe import probe as linear_probe  # noqa: E402
from engine.evaluation.weighted_knn import extract_features, knn_accuracy  # noqa: E402
from engine.runs.worker import execute  # noqa: E402
from engine.ssl.method import MethodPlugin  # noqa: E402
from engine.store.database import Store  # noqa: E402
from engine.store.run_record import Run  # noqa: E402
from engine.training import checkpoint  # noqa: E402
from engine.training.config import build_config  # noqa: E402

RANDOM = "random init"
# docs/methods.md says why: shapes has no upright unless told; colour is random per image and
# tells views apart; a queue longer than the data goes stale; DINO's teacher drifts to uniform
# at 0.07; Exemplar's linear softmax barely learns in 30 epochs.
TABLE_DATA_SETTINGS = ["max_rotation=15"]
TABLE_METHOD_SETTINGS = ["gray_p=0.8", "moco.queue_size=512", "dino.teacher_temp=0.04",
                         "exemplar.cosine_temperature=0.1",
                         # small-data deviations from the papers' defaults (docs/methods.md): larger
                         # smallest crops for 32 px images, faster EMA targets for a short run
                         *(f"{m}.crop_min=0.2" for m in ("simclr", "moco", "byol", "simsiam", "barlow_twins",
                                                          "vicreg", "dino", "swav")),
                         "moco.base_momentum=0.99", "moco.momentum_schedule=cosine", "byol.base_momentum=0.99",
                         "relative_position.tile_frac=0.7", "jigsaw.perm_selection=min",
                         "colorization.bins=100"]


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="", help="comma-separated method ids (default: every registered method)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--image-size", type=int, default=32)
    ap.add_argument("--train-size", type=int, default=2000, help="images pre-trained on (and the kNN bank)")
    ap.add_argument("--test-size", type=int, default=2000)
    ap.add_argument("--num-classes", type=int, default=10)
    ap.add_argument("--backbone", default="convnet")
    ap.add_argument("--width", type=int, default=16, help="convnet width (ignored by other backbones)")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--optimizer", default="adamw", choices=("sgd", "adamw", "lars"))
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--knn-k", type=int, default=20)
    ap.add_argument("--no-linear", action="store_true", help="skip the linear probe")
    ap.add_argument("--vit-pool", default="avg", choices=("cls", "avg"),
                    help="ViT readout for every ViT row, trained or random (avg: MAE trains no cls token)")
    ap.add_argument("--data-set", action="append", default=[], metavar="KEY=VALUE",
                    help=f"a shapes parameter for every row (repeatable; after {' '.join(TABLE_DATA_SETTINGS)})")
    ap.add_argument("--method-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a method parameter for every method whose schema has KEY, e.g. gray_p=0.8, or for one method: "
                         f"moco.queue_size=512 (repeatable; after {' '.join(TABLE_METHOD_SETTINGS)})")
    ap.add_argument("--recipe-defaults", action="store_true",
                    help="drop the table's data and method settings: every method with its recipe's own defaults")
    ap.add_argument("--select", action="store_true",
                    help="choose settings: score on a validation split carved from train; test is not read")
    ap.add_argument("--val-fraction", type=float, default=0.2, help="share of train held out by --select")
    ap.add_argument("--home", default="", help="Pretext home for the runs (default: a temporary folder)")
    ap.add_argument("--out", default="", help="write the Markdown table to this file")
    args = ap.parse_args(argv)
    args.user_method_set = list(args.method_set)  # only the user's keys must fit a chosen method
    if not args.recipe_defaults:  # the user's assignments come later and win
        args.data_set = TABLE_DATA_SETTINGS + args.data_set
        args.method_set = TABLE_METHOD_SETTINGS + args.method_set
    return args


def refuse(sentence: str):
    """Bad input: one sentence on stderr and exit code 2, before anything trains."""
    print(f"error: {sentence}", file=sys.stderr)
    raise SystemExit(2)


def chosen_methods(text: str) -> list[str]:
    known = [e.id for e in registry.entries("method")]
    if not text:  # every image method (clips and sound have their own tables), the supervised reference last
        images = [e.id for e in registry.entries("method") if e.cls.input_kind == SampleKind.IMAGE]
        return [m for m in images if m != "supervised"] + (["supervised"] if "supervised" in images else [])
    wanted = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in wanted if m not in known]
    if unknown:
        refuse(f"unknown method {', '.join(unknown)} (known: {', '.join(known)})")
    return wanted


def _target(key: str, method_id: str) -> str | None:
    """The parameter a ``--method-set`` KEY names for this method: KEY itself where its schema
    has it, NAME for ``METHOD.NAME`` where METHOD is this method; None where it does not apply."""
    owner, _, name = key.rpartition(".")
    schema = {p.name for p in registry.get("method", method_id).schema}
    return name if name in schema and owner in ("", method_id) else None


def method_settings(args, method_id: str) -> dict:
    """This method's ``--method-set`` assignments; its other parameters keep their defaults."""
    from engine.params import parse_assignments

    return {_target(k, method_id): v for k, v in parse_assignments(args.method_set).items()
            if _target(k, method_id)}


def check_method_settings(args, methods: list[str]) -> None:
    """Exit with one sentence when a ``--method-set`` key fits none of the chosen methods or a
    value is out of a method's range, before anything trains."""
    from engine.params import ParamError, parse_assignments, resolve

    try:
        parse_assignments(args.method_set)  # a malformed KEY=VALUE is refused here
        for method_id in methods:
            resolve(registry.get("method", method_id).schema, method_settings(args, method_id))
    except ParamError as e:
        refuse(f"--method-set: {e}")
    unused = [k for k in parse_assignments(args.user_method_set) if not any(_target(k, m) for m in methods)]
    if unused:
        refuse(f"--method-set {', '.join(unused)}: no chosen method has this parameter")


def settings(args, backbone_id: str | None = None) -> tuple[dict, dict, dict]:
    from engine.params import parse_assignments

    data = {"image_size": args.image_size, "train_size": args.train_size, "test_size": args.test_size,
            "num_classes": args.num_classes, "seed": args.seed, **parse_assignments(args.data_set)}
    data = registry.resolve_params("dataset", "shapes", data)
    backbone_id = backbone_id or args.backbone
    backbone = {"width": args.width} if backbone_id == "convnet" else {}
    if Capability.TOKENS in registry.get("backbone", backbone_id).cls.capabilities:
        backbone["pool"] = args.vit_pool
    train = {"epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer, "lr": args.lr,
             "weight_decay": args.weight_decay, "device": args.device, "seed": args.seed, "knn_every": 0,
             "warmup_epochs": min(0.5, args.epochs / 2),
             "channels_last": True}  # as the quick preset: the same arithmetic, ~1.4x faster on a bf16 CPU
    return data, backbone, train


def labeled(home: Path, data: dict, val_fraction: float | None = None, seed: int = 0):
    """(bank images, bank labels, query images, query labels) from the shared dataset cache:
    train and test; with ``val_fraction`` (choosing settings), the rest of train and a
    stratified, seeded validation split carved from it, and the test split is not read."""
    from engine.data.stratified_split import stratified_split

    ds = registry.create_dataset("shapes", data, home / "cache")
    tr = ds.split("train")
    images, labels = images_to_tensor(tr.images), torch.from_numpy(tr.labels)
    if val_fraction is not None:
        keep, val = stratified_split(tr.labels, val_fraction, seed)
        keep, val = torch.from_numpy(keep), torch.from_numpy(val)
        return images[keep], labels[keep], images[val], labels[val]
    te = ds.split("test")
    return images, labels, images_to_tensor(te.images), torch.from_numpy(te.labels)


def evaluate(embed, splits, args, device) -> dict:
    """kNN (and linear-probe) test accuracy of frozen features from ``embed``."""
    bx, by, qx, qy = splits
    fb = extract_features(embed, bx, device=device)
    fq = extract_features(embed, qx, device=device)
    out = {"knn": knn_accuracy(fb, by.to(fb.device), fq, qy, k=args.knn_k, num_classes=args.num_classes)}
    if not args.no_linear:
        res = linear_probe(fb, by, fq, qy, args.num_classes, [0.0, 1e-4, 1e-3, 1e-2], seed=args.seed, device=device)
        out["linear"] = res["top1"]
    return out


def build(method_id: str, cfg: dict, image_size: int, num_classes: int, state: dict | None, device):
    """The method around its trained backbone (``state``; None: as initialised): ``embed`` may
    transform inputs (e.g. colorization sees only lightness), so features are read through the
    method, not the bare backbone."""
    backbone = registry.create_backbone(cfg["backbone"]["id"], cfg["backbone"]["params"], image_size)
    if state is not None:
        backbone.load_state_dict(state)
    method = registry.create_method(method_id, backbone, cfg["method"]["params"], image_size, num_classes)
    return method.to(device).eval()


def random_same_input(method_id: str, cfg: dict, args, device) -> MethodPlugin | None:
    """The untrained backbone read out through the method's own ``embed``, where that differs
    from the base class's (colorization sees lightness, nat Sobel edges): its baseline, since
    the input transform alone can change what random features are worth."""
    if registry.get("method", method_id).cls.embed is MethodPlugin.embed:
        return None
    torch.manual_seed(args.seed)
    return build(method_id, cfg, args.image_size, args.num_classes, None, device)


def random_init(args, device, backbone_id: str) -> MethodPlugin:
    """The untrained backbone behind the base class's embedding (ImageNet-normalised pixels)."""
    torch.manual_seed(args.seed)
    _, backbone_params, _ = settings(args, backbone_id)
    backbone = registry.create_backbone(backbone_id, backbone_params, args.image_size)
    return MethodPlugin(backbone, args.image_size).to(device).eval()


def backbone_for(method_id: str, args) -> str:
    """The benchmark's backbone, or, for a method that declares a requirement it lacks, the
    smallest backbone that has it (MAE encodes only the visible patches: vit_tiny)."""
    for backbone_id in (args.backbone, "vit_tiny", *(e.id for e in registry.entries("backbone"))):
        if registry.compatibility_error(method_id, backbone_id) is None:
            return backbone_id
    raise SystemExit(f"no registered backbone can train method {method_id}")


def finished_run(store: Store, cfg: dict, name: str) -> Run | None:
    """A completed run of this exact config in the home (``--home`` reused after a stop).
    Configs are compared as stored: a run made before a parameter existed is not reused,
    since the parameter's default may change what the method does."""
    for run in store.list_runs():
        if run.name == name and run.status == "completed":
            run = store.get_run(run.id)
            if run.config == cfg:
                return run
    return None


def pretrain(store: Store, home: Path, method_id: str, args, backbone_id: str) -> tuple[dict, float, str]:
    """Train one run through the worker; return (config, seconds per epoch, run id)."""
    data, backbone, train = settings(args, backbone_id)
    cfg = build_config("shapes", method_id, backbone_id, train=train,
                       params={"data": data, "backbone": backbone, "method": method_settings(args, method_id)})
    done = finished_run(store, cfg, f"bench {method_id}")
    if done is not None:
        return cfg, (done.ended - done.started) / train["epochs"], done.id
    run_id = store.create_run(cfg, name=f"bench {method_id}")
    start = time.perf_counter()
    status = execute(home, run_id)
    seconds = time.perf_counter() - start
    if status == "stopped":   # a stop request or SIGTERM: end the benchmark, not just this row
        raise SystemExit(f"{method_id} was stopped; the benchmark stops too (rerun with the same --home to "
                         "reuse the finished runs)")
    if status != "completed":
        raise RuntimeError(f"{method_id} ended {status}: {store.get_run(run_id).error or ''}")
    return cfg, seconds / train["epochs"], run_id


def pretext_metric(store: Store, run_id: str, key: str, window: int) -> float | None:
    """Mean of the method's own metric over its last ``window`` logged steps."""
    values = store.metric_series(run_id, key)[3][-window:]
    return sum(values) / len(values) if values else None


def row(name, metric_key, metric, scores, per_epoch, error="", same_input=None) -> dict:
    return {"method": name, "pretext": f"{metric_key} {metric:.3f}" if metric is not None else "",
            "knn": scores.get("knn"), "linear": scores.get("linear"), "epoch_s": per_epoch, "error": error,
            "same_input_knn": (same_input or {}).get("knn")}


def markdown(rows: list[dict], args) -> str:
    has_linear = any(r["linear"] is not None for r in rows)
    head = ["method", "pretext metric (last epoch)", f"kNN acc (k={args.knn_k})"]
    head += ["linear acc"] if has_linear else []
    head += ["random init kNN, same input", "time / epoch (s)"]
    from engine.params import (
        parse_assignments,  # the last assignment of a key wins, as in training
    )

    extra = "".join(f", {k}={v}" for k, v in parse_assignments(args.data_set).items())
    chosen = chosen_methods(args.methods)  # settings for methods not in the table stay out of its header
    methods = "".join(f", {k}={v}" + ("" if "." in k else " for every method that has it")
                      for k, v in parse_assignments(args.method_set).items() if any(_target(k, m) for m in chosen))
    split = (f"scored on a validation split ({args.val_fraction:g} of train, stratified, seed {args.seed}; "
             "test not read)" if args.select else f"{args.test_size} test images")
    lines = [f"Shapes {args.image_size} px, {args.train_size} train / {split}, "
             f"{args.num_classes} classes{extra}; {args.backbone}"
             f"{f' width {args.width}' if args.backbone == 'convnet' else ''}, {args.epochs} epochs, batch "
             f"{args.batch_size}, {args.optimizer} lr {args.lr:g}, seed {args.seed}{methods}.", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r["error"]:
            lines.append("| " + " | ".join([r["method"], f"failed: {r['error']}"] + ["-"] * (len(head) - 2)) + " |")
            continue
        cells = [r["method"], r["pretext"] or "-", f"{r['knn']:.3f}"]
        if has_linear:
            cells.append(f"{r['linear']:.3f}" if r["linear"] is not None else "-")
        cells.append(f"{r['same_input_knn']:.3f}" if r["same_input_knn"] is not None else "-")
        cells.append(f"{r['epoch_s']:.1f}" if r["epoch_s"] is not None else "-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = parse_args(argv)
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="pretext-bench-"))
    registry.discover(home)
    methods = chosen_methods(args.methods)
    check_method_settings(args, methods)
    device = torch.device("cuda" if args.device != "cpu" and torch.cuda.is_available() else "cpu")
    # fills the cache: no run's time includes making data; --select never reads test
    splits = labeled(home, settings(args)[0], args.val_fraction if args.select else None, args.seed)
    store = Store(home)
    rows = [row(RANDOM, "", None, evaluate(random_init(args, device, args.backbone).embed, splits, args, device), None)]
    print(f"{RANDOM}: knn {rows[0]['knn']:.3f}", flush=True)
    steps_per_epoch = max(1, args.train_size // min(args.batch_size, args.train_size))
    for method_id in methods:
        backbone_id = backbone_for(method_id, args)
        name = method_id if backbone_id == args.backbone else f"{method_id} ({backbone_id})"
        if backbone_id != args.backbone and not any(r["method"] == f"{RANDOM} ({backbone_id})" for r in rows):
            baseline = evaluate(random_init(args, device, backbone_id).embed, splits, args, device)
            rows.append(row(f"{RANDOM} ({backbone_id})", "", None, baseline, None))
        try:
            cfg, per_epoch, run_id = pretrain(store, home, method_id, args, backbone_id)
        except RuntimeError as e:  # one method failing must not lose the others' rows
            rows.append(row(name, "", None, {}, None, error=str(e)))
            print(f"{name}: {e}", flush=True)
            continue
        state = checkpoint.load(store.run_dir(run_id).backbone, map_location="cpu")["backbone"]
        method = build(method_id, cfg, args.image_size, args.num_classes, state, device)
        metric = pretext_metric(store, run_id, method.accuracy_key, steps_per_epoch)
        baseline = random_same_input(method_id, cfg, args, device)
        same = evaluate(baseline.embed, splits, args, device) if baseline is not None else None
        rows.append(row(name, method.accuracy_key, metric, evaluate(method.embed, splits, args, device), per_epoch,
                        same_input=same))
        print(f"{name}: knn {rows[-1]['knn']:.3f}, {per_epoch:.1f} s/epoch"
              + (f", random init through its input {same['knn']:.3f}" if same else ""), flush=True)
    table = markdown(rows, args)
    print(table)
    if args.out:
        Path(args.out).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
