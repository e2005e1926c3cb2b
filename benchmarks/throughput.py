"""Training throughput: Pretext's data path against the standard torchvision recipe.

In one process, on one model, two ways of feeding the same method's training step
(loss, backward, optimizer and scheduler step: ``Trainer.train_step``):

- ours: the split as one uint8 tensor on the device, batched seeded augmentation on the
  device inside the method (engine/ssl/augment.py);
- standard: torchvision.transforms v1 on PIL images in DataLoader worker processes —
  RandomResizedCrop, RandomHorizontalFlip, RandomApply([ColorJitter], p=0.8),
  RandomGrayscale(p=0.2), ToTensor, Normalize — two views per image, as SimCLR reference
  implementations do; the views replace the method's own augmentation.

The two are measured in alternating phases (ours, standard, ours, ...) so drift in a shared
machine's load affects both alike. Prints one JSON object and a summary line.

    python benchmarks/throughput.py --method simclr --backbone convnet --image-size 32 \\
        --batch-size 256 --steps 8 --device cpu
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


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default="simclr")
    p.add_argument("--backbone", default="convnet")
    p.add_argument("--image-size", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--steps", type=int, default=8, help="timed steps per phase")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps at the start of each phase")
    p.add_argument("--rounds", type=int, default=2, help="alternating (ours, standard) rounds")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    p.add_argument("--num-workers", type=int, default=os.cpu_count())
    p.add_argument("--train-size", type=int, default=2048)
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="extra plugin/training params")
    p.add_argument("--home", help="where the generated dataset is cached (default: a temporary folder)")
    args = p.parse_args(argv)

    from engine.params import parse_assignments

    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="pretext-bench-"))
    registry.discover(home)
    # one pass of the loader must cover a phase: its workers are not restarted mid-phase
    train_size = max(args.train_size, args.batch_size * (args.warmup + args.steps))
    sets = {"image_size": str(args.image_size), "train_size": str(train_size), "test_size": "64",
            **parse_assignments(args.set)}
    train = {"epochs": 1000, "batch_size": args.batch_size, "device": args.device, "knn_every": 0}
    config = build_config("shapes", args.method, args.backbone, train=train, sets=sets)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), home / "cache")
        if not hasattr(trainer.method, "recipe"):
            p.error(f"method {args.method} has no two-view recipe to replace")
        mp = config["method"]["params"]
        split = trainer.dataset.split("unlabeled" if "unlabeled" in trainer.dataset.splits else "train")
        two_views = TwoViews(split.images, args.image_size, mp.get("crop_min", 0.2), mp.get("jitter_strength", 0.5))
        loader = DataLoader(two_views, batch_size=trainer.batch_size, shuffle=True, drop_last=True,
                            num_workers=args.num_workers, pin_memory=trainer.device.type == "cuda")
        ours, standard = [], []
        for _ in range(args.rounds):
            ours.append(ours_phase(trainer, args.steps, args.warmup))
            standard.append(standard_phase(trainer, loader, args.steps, args.warmup))
        worker_cpu = transform_cpu_per_image(two_views)
    result = {
        "method": args.method, "backbone": args.backbone, "image_size": args.image_size,
        "batch_size": trainer.batch_size, "device": str(trainer.device), "threads": torch.get_num_threads(),
        "num_workers": args.num_workers, "cpu_count": os.cpu_count(), "steps": args.steps, "rounds": args.rounds,
        "load_avg_1min": round(os.getloadavg()[0], 2),
        "ours_img_per_s": round(statistics.median(r for r, _ in ours), 1),
        "standard_img_per_s": round(statistics.median(r for r, _ in standard), 1),
        "ours_rounds": [round(r, 1) for r, _ in ours], "standard_rounds": [round(r, 1) for r, _ in standard],
        # CPU time per image does not depend on how much of a shared CPU this run got
        "ours_cpu_ms_per_img": round(1000 * statistics.median(c for _, c in ours), 3),
        "standard_cpu_ms_per_img": round(1000 * (statistics.median(c for _, c in standard) + worker_cpu), 3),
        "standard_worker_cpu_ms_per_img": round(1000 * worker_cpu, 3),
    }
    result["ratio"] = round(result["ours_img_per_s"] / result["standard_img_per_s"], 2)
    result["cpu_ratio"] = round(result["standard_cpu_ms_per_img"] / result["ours_cpu_ms_per_img"], 2)
    print(json.dumps(result))
    print(f"{args.method}/{args.backbone} {args.image_size}px batch {trainer.batch_size} on {trainer.device}: "
          f"ours {result['ours_img_per_s']} img/s, torchvision+DataLoader({args.num_workers} workers) "
          f"{result['standard_img_per_s']} img/s, ratio {result['ratio']}x; CPU ms/img ours "
          f"{result['ours_cpu_ms_per_img']}, standard {result['standard_cpu_ms_per_img']} (ratio {result['cpu_ratio']}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
