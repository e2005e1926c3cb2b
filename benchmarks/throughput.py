"""Training throughput: Pretext's data path against the standard torchvision recipe.

In one process, on the same model (same seed, same initial weights), the same method's
training step (loss, backward, optimizer and scheduler step: ``Trainer.train_step``) fed and
run two ways:

- ours: the split as one uint8 tensor on the device, batched seeded augmentation on the
  device inside the method (engine/ssl/augment.py), at ``--precision`` (auto: bf16 autocast
  on CUDA and on CPUs with native bf16) with ``--channels-last`` / ``--compile`` if given;
  ``--also`` adds more variants of ours (e.g. ``fp32``, ``bf16+channels_last+compile``);
- standard (lightly's SimCLR recipe): torchvision.transforms v1 on PIL images in DataLoader
  worker processes — RandomResizedCrop, RandomHorizontalFlip, RandomApply([ColorJitter], p=0.8),
  RandomGrayscale(p=0.2), ToTensor, Normalize — two views per image, as SimCLR reference
  implementations do, into an fp32 eager model; the views replace the method's own augmentation.

Phases alternate (standard, ours, every --also variant, standard, ...) so drift in a shared
machine's load affects all alike. Prints one JSON object and a summary line per variant.

    python benchmarks/throughput.py --method simclr --backbone resnet18 --image-size 32 \\
        --batch-size 128 --steps 4 --device cpu --also fp32 --also bf16+channels_last
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402
from torchvision import transforms as T  # noqa: E402

from engine import registry  # noqa: E402
from engine.ssl.augment import MEAN, STD  # noqa: E402
from engine.training.config import build_config  # noqa: E402
from engine.training.trainer import Trainer  # noqa: E402


class TwoViews(Dataset):
    """(N, H, W, 3) uint8 images -> two independently augmented views per image."""

    def __init__(self, images: np.ndarray, size: int, crop_min: float, s: float):
        self.images = images
        self.transform = T.Compose([
            T.RandomResizedCrop(size, scale=(crop_min, 1.0)),
            T.RandomHorizontalFlip(),
            T.RandomApply([T.ColorJitter(0.8 * s, 0.8 * s, 0.8 * s, 0.2 * s)], p=0.8),
            T.RandomGrayscale(p=0.2),
            T.ToTensor(),
            T.Normalize(MEAN.flatten().tolist(), STD.flatten().tolist()),
        ])

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        img = Image.fromarray(self.images[i])
        return self.transform(img), self.transform(img)


class ReplayViews:
    """Stands in for a method's ``recipe``: returns the loader's views, in order."""

    def __init__(self, views):
        self.views = list(views)

    def __call__(self, x, gen=None, norm=True):
        return self.views.pop(0)


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def ours_phase(trainer: Trainer, steps: int, warmup: int) -> tuple[float, float]:
    """(images/s, CPU seconds of this process per image) over ``steps`` timed steps."""
    for _ in range(warmup):
        trainer.train_step(*trainer._batch(trainer.step))
    _sync(trainer.device)
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        trainer.train_step(*trainer._batch(trainer.step))
    _sync(trainer.device)
    n = steps * trainer.batch_size
    return n / (time.perf_counter() - start), (time.process_time() - cpu) / n


def standard_phase(trainer: Trainer, loader: DataLoader, steps: int, warmup: int) -> tuple[float, float]:
    """(images/s, CPU seconds of the main process per image). Fresh workers each phase; the
    first ``warmup`` steps (worker start, filling the prefetch queue) are not timed."""
    method, own_recipe = trainer.method, trainer.method.recipe
    it = iter(loader)
    start = None
    try:
        for i in range(warmup + steps):
            if i == warmup:
                _sync(trainer.device)
                start, cpu = time.perf_counter(), time.process_time()
            v1, v2 = next(it)
            method.recipe = ReplayViews([v1.to(trainer.device, non_blocking=True),
                                         v2.to(trainer.device, non_blocking=True)])
            trainer.train_step(torch.empty(0, device=trainer.device), None)
        _sync(trainer.device)
        n = steps * trainer.batch_size
        return n / (time.perf_counter() - start), (time.process_time() - cpu) / n
    finally:
        method.recipe = own_recipe
        del it  # shuts the workers down


def transform_cpu_per_image(dataset: TwoViews, n: int = 256) -> float:
    """CPU seconds the workers spend per image (two views), measured in this process."""
    torch_threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as in a DataLoader worker
    try:
        cpu = time.process_time()
        for i in range(n):
            dataset[i % len(dataset)]
        return (time.process_time() - cpu) / n
    finally:
        torch.set_num_threads(torch_threads)


OPTIONS = ("channels_last", "compile")


def parse_variant(spec: str) -> dict:
    """``bf16+channels_last+compile`` -> the training settings of one variant of ours."""
    parts = spec.split("+")
    if parts[0] not in ("auto", "fp32", "bf16", "fp16") or any(o not in OPTIONS for o in parts[1:]):
        raise ValueError(f"bad variant {spec!r}: PRECISION[+channels_last][+compile]")
    return {"precision": parts[0], **{o: o in parts[1:] for o in OPTIONS}}


def variant_name(trainer: Trainer, train: dict) -> str:
    """The variant as it ran: the autocast dtype ``auto`` resolved to, then the options."""
    dtype = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[trainer.amp_dtype]
    return "+".join([dtype, *(o for o in OPTIONS if train[o])])


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="simclr")
    p.add_argument("--backbone", default="convnet")
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=8, help="timed steps per phase")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps at the start of each phase")
    p.add_argument("--rounds", type=int, default=2, help="alternating rounds (standard, ours, --also ...)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16", "fp16"), default="auto",
                   help="precision of ours (the standard recipe is always fp32)")
    p.add_argument("--channels-last", action="store_true", help="ours in channels-last memory format")
    p.add_argument("--compile", action="store_true", help="ours with torch.compile of the backbone")
    p.add_argument("--also", action="append", default=[], metavar="PRECISION[+channels_last][+compile]",
                   help="another variant of ours measured in the same rounds")
    p.add_argument("--num-workers", type=int, default=os.cpu_count())
    p.add_argument("--train-size", type=int, default=2048)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra plugin/training params")
    p.add_argument("--home", help="where the generated dataset is cached (default: a temporary folder)")
    args = p.parse_args(argv)
    main_variant = {"precision": args.precision, "channels_last": args.channels_last, "compile": args.compile}
    try:
        args.variants = [main_variant, *(parse_variant(s) for s in args.also)]
    except ValueError as e:
        p.error(str(e))
    return p, args


def build(args, home: Path, run_root: Path, train: dict) -> Trainer:
    from engine.params import parse_assignments

    # one pass of the loader must cover a phase: its workers are not restarted mid-phase
    train_size = max(args.train_size, args.batch_size * (args.warmup + args.steps))
    sets = {"image_size": str(args.image_size), "train_size": str(train_size), "test_size": "64",
            **parse_assignments(args.set)}
    train = {"epochs": 1000, "batch_size": args.batch_size, "device": args.device, "knn_every": 0, **train}
    config = build_config("shapes", args.method, args.backbone, train=train, sets=sets)
    return Trainer(config, Path(tempfile.mkdtemp(dir=run_root)), home / "cache")


def measure(args, home: Path, run_root: Path) -> dict:
    """Build the standard trainer and one per variant, run the alternating rounds."""
    standard = build(args, home, run_root, {"precision": "fp32", "channels_last": False, "compile": False})
    if not hasattr(standard.method, "recipe"):
        raise SystemExit(f"error: method {args.method} has no two-view recipe to replace")
    ours = [(build(args, home, run_root, v), v) for v in args.variants]
    mp = standard.config["method"]["params"]
    split = standard.dataset.split("unlabeled" if "unlabeled" in standard.dataset.splits else "train")
    two_views = TwoViews(split.images, args.image_size, mp.get("crop_min", 0.2), mp.get("jitter_strength", 0.5))
    loader = DataLoader(two_views, batch_size=standard.batch_size, shuffle=True, drop_last=True,
                        num_workers=args.num_workers, pin_memory=standard.device.type == "cuda")
    std_runs, our_runs = [], [[] for _ in ours]
    for _ in range(args.rounds):
        std_runs.append(standard_phase(standard, loader, args.steps, args.warmup))
        for runs, (trainer, _) in zip(our_runs, ours):
            runs.append(ours_phase(trainer, args.steps, args.warmup))
    worker_cpu = transform_cpu_per_image(two_views)
    std = _summary(std_runs, extra_cpu=worker_cpu)
    variants = []
    for runs, (trainer, v) in zip(our_runs, ours):
        row = {"variant": variant_name(trainer, v), **_summary(runs)}
        row["ratio"] = round(row["img_per_s"] / std["img_per_s"], 2)
        row["cpu_ratio"] = round(std["cpu_ms_per_img"] / row["cpu_ms_per_img"], 2)
        variants.append(row)
    return {"batch_size": standard.batch_size, "device": str(standard.device),
            "standard": {"variant": "fp32 (torchvision + DataLoader)", **std,
                         "worker_cpu_ms_per_img": round(1000 * worker_cpu, 3)},
            "ours": variants}


def _summary(runs: list[tuple[float, float]], extra_cpu: float = 0.0) -> dict:
    """Median images/s and CPU ms per image over the rounds (CPU time per image does not
    depend on how much of a shared CPU this run got)."""
    return {"img_per_s": round(statistics.median(r for r, _ in runs), 1),
            "rounds": [round(r, 1) for r, _ in runs],
            "cpu_ms_per_img": round(1000 * (statistics.median(c for _, c in runs) + extra_cpu), 3)}


def main(argv=None) -> int:
    p, args = parse_args(argv)
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="pretext-bench-"))
    registry.discover(home)
    with tempfile.TemporaryDirectory() as run_root:
        figures = measure(args, home, Path(run_root))
    result = {
        "method": args.method, "backbone": args.backbone, "image_size": args.image_size,
        "threads": torch.get_num_threads(), "num_workers": args.num_workers, "cpu_count": os.cpu_count(),
        "steps": args.steps, "rounds": args.rounds, "load_avg_1min": round(os.getloadavg()[0], 2), **figures,
    }
    print(json.dumps(result))
    std = result["standard"]
    for row in result["ours"]:
        print(f"{args.method}/{args.backbone} {args.image_size}px batch {result['batch_size']} on {result['device']}: "
              f"ours {row['variant']} {row['img_per_s']} img/s, torchvision+DataLoader({args.num_workers} workers) "
              f"fp32 {std['img_per_s']} img/s, ratio {row['ratio']}x; CPU ms/img ours {row['cpu_ms_per_img']}, "
              f"standard {std['cpu_ms_per_img']} (ratio {row['cpu_ratio']}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
