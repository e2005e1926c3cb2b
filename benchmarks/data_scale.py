"""Data at scale: a folder of JPEGs decoded into the streamed cache, then trained on.

Generates ``--count`` JPEGs of ``--size`` px (smooth random colour fields, so they compress
like photos), then, each phase in its own process so peak memory is the phase's own:

- build: ``folder`` decodes the images into ``<home>/cache`` (decode threads, chunked);
  prints images/s, MB/s of decoded records and the peak RSS (VmHWM) of the process;
- stream: trains ``--steps`` steps with batches gathered from the cache file by the
  background prefetch thread; prints img/s and the peak RSS;
- compare (skipped when the decoded split is more than ``--ram-limit-gb``): the same
  trainer, alternating rounds of streamed batches and batches from the split held in RAM
  as one tensor (the path every run took before the cache), so load drift hits both alike.

    python benchmarks/data_scale.py --count 20000 --size 128 --steps 30
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    """VmHWM (peak resident memory) of this process, its threads included, in MB."""
    return round(_status_mb("VmHWM"), 1)


def rss_mb() -> float:
    """VmRSS now: taken after the imports, it is the floor a phase's peak is compared with."""
    return round(_status_mb("VmRSS"), 1)


def generate(folder: Path, count: int, size: int) -> float:
    """``count`` JPEGs of size x size in ``folder``; -> seconds taken (skipped if present)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    have = len(list(folder.glob("*.jpg")))
    start = time.perf_counter()
    rng = np.random.default_rng(have)
    for i in range(have, count):
        coarse = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        Image.fromarray(coarse).resize((size, size), Image.BICUBIC).save(folder / f"{i:07d}.jpg", quality=90)
    return time.perf_counter() - start


def _dataset_params(args) -> dict:
    return {"root": str(args.folder), "image_size": args.size}


def _trainer(args):
    from engine import registry
    from engine.training.config import build_config
    from engine.training.trainer import Trainer

    registry.discover()
    sets = {**{k: str(v) for k, v in _dataset_params(args).items()}, "width": str(args.width),
            "knn_every": "0", "warmup_epochs": "0", "proj_hidden": "128", "proj_dim": "64"}
    config = build_config("folder", "simclr", "convnet", sets=sets,
                          train={"batch_size": args.batch_size, "device": "cpu", "epochs": 1})
    return Trainer(config, Path(tempfile.mkdtemp(dir=args.home)), args.home / "cache")


def _rate(trainer, steps: int, start: int) -> float:
    t0 = time.perf_counter()
    for s in range(start, start + steps):
        x, y = trainer._batch(s)
        trainer.train_step(x, y)
    return steps * trainer.batch_size / (time.perf_counter() - t0)


def phase_build(args) -> dict:
    from engine import registry

    registry.discover()
    dataset = registry.create_dataset("folder", _dataset_params(args), args.home / "cache")
    base = rss_mb()
    start = time.perf_counter()
    dataset.prepare()
    seconds = time.perf_counter() - start
    split = dataset.split("unlabeled")
    return {"images": len(split), "seconds": round(seconds, 2), "img_per_s": round(len(split) / seconds, 1),
            "decoded_mb": round(split.images.nbytes / 1e6, 1),
            "mb_per_s": round(split.images.nbytes / 1e6 / seconds, 1), "rss_before_mb": base, "peak_rss_mb": peak_rss_mb()}


def phase_stream(args) -> dict:
    trainer = _trainer(args)
    assert trainer.data.streamed
    base = rss_mb()
    _rate(trainer, 3, 0)  # warm-up
    rate = _rate(trainer, args.steps, 3)
    return {"img_per_s": round(rate, 1), "rss_before_mb": base, "peak_rss_mb": peak_rss_mb(), "steps": args.steps}


def phase_compare(args) -> dict:
    import torch

    from engine.data.tensors import images_to_tensor
    from engine.training.batch_source import BatchSource

    trainer = _trainer(args)
    streamed = trainer.data
    split = trainer.dataset.split("unlabeled")
    held = BatchSource(images_to_tensor(split.images), None, torch.device("cpu"), trainer.batch_size, 0)
    rates = {"stream": [], "ram": []}
    _rate(trainer, 3, 0)
    step = 3
    for _ in range(args.rounds):
        for name, source in (("ram", held), ("stream", streamed)):
            trainer.data = source
            rates[name].append(_rate(trainer, args.steps, step))
            step += args.steps
    med = {k: sorted(v)[len(v) // 2] for k, v in rates.items()}
    return {"stream_img_per_s": round(med["stream"], 1), "ram_img_per_s": round(med["ram"], 1),
            "ratio": round(med["stream"] / med["ram"], 3), "rounds": rates}


def _child(args, phase: str) -> dict:
    cmd = [sys.executable, __file__, "--phase", phase, "--folder", str(args.folder), "--home", str(args.home),
           "--size", str(args.size), "--steps", str(args.steps), "--rounds", str(args.rounds),
           "--batch-size", str(args.batch_size), "--width", str(args.width)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=20000)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--steps", type=int, default=20, help="timed training steps per phase (per round in compare)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--width", type=int, default=8, help="convnet width (small: the data path weighs more)")
    p.add_argument("--ram-limit-gb", type=float, default=4.0)
    p.add_argument("--folder", type=Path, default=None, help="where the JPEGs go (default: a temporary folder)")
    p.add_argument("--home", type=Path, default=None)
    p.add_argument("--phase", choices=("build", "stream", "compare"), help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        print(json.dumps({"build": phase_build, "stream": phase_stream, "compare": phase_compare}[args.phase](args)))
        return
    work = Path(tempfile.mkdtemp(prefix="pretext-data-scale-"))
    args.folder = args.folder or work / "jpegs"
    args.home = args.home or work / "home"
    args.home.mkdir(parents=True, exist_ok=True)
    report = {"count": args.count, "size": args.size, "cpu_cores": os.cpu_count(),
              "generate_s": round(generate(args.folder, args.count, args.size), 1)}
    report["build"] = _child(args, "build")
    report["stream"] = _child(args, "stream")
    if report["build"]["decoded_mb"] <= args.ram_limit_gb * 1000:
        report["compare"] = _child(args, "compare")
    print(json.dumps(report, indent=1))
    b, s = report["build"], report["stream"]
    line = (f"{args.count} x {args.size} px ({b['decoded_mb'] / 1000:.2f} GB decoded): cache built at "
            f"{b['img_per_s']:.0f} img/s ({b['mb_per_s']:.0f} MB/s), peak RSS {b['peak_rss_mb']:.0f} MB "
            f"(from {b['rss_before_mb']:.0f}); training streamed {s['img_per_s']:.1f} img/s, peak RSS "
            f"{s['peak_rss_mb']:.0f} MB (from {s['rss_before_mb']:.0f})")
    if "compare" in report:
        c = report["compare"]
        line += f"; streamed/in-RAM {c['stream_img_per_s']:.1f}/{c['ram_img_per_s']:.1f} img/s = {c['ratio']:.3f}x"
    print(line)
    print(f"work folder (delete when done): {work}", file=sys.stderr)


if __name__ == "__main__":
    main()
