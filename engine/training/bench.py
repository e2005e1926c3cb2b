"""``python main.py bench``: training throughput of one data/method/backbone/batch/device.

Measures images/s of the full training step, of the data path alone (batch gather +
the method's input construction, no network), and peak memory (RSS, CUDA)."""
from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

import torch

from engine.runs.paths import RunPaths
from engine.training.config import build_config
from engine.training.trainer import Trainer


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def _rate(fn, steps: int, images: int, device) -> float:
    fn(0)  # warm-up: allocations, cudnn autotuning
    _sync(device)
    start = time.perf_counter()
    for i in range(steps):
        fn(i + 1)
    _sync(device)
    return steps * images / (time.perf_counter() - start)


def run_bench(data: str, method: str, backbone: str, batch_size: int, device: str, steps: int,
              sets: dict, home: Path) -> dict:
    train = {"epochs": 1000, "batch_size": batch_size, "device": device, "knn_every": 0}
    config = build_config(data, method, backbone, train=train, sets=sets)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir), RunPaths(home).cache)
        dev = trainer.device
        if dev.type == "cuda":
            torch.cuda.reset_peak_memory_stats()
        n = trainer.batch_size

        def data_only(i):
            x, _ = trainer._batch(i)
            with torch.no_grad():
                trainer.method.input_preview(x)

        def full_step(i):
            x, y = trainer._batch(trainer.step)
            trainer.train_step(x, y)

        data_rate = _rate(data_only, steps, n, dev)
        step_rate = _rate(full_step, steps, n, dev)
        placement = trainer.data.placement
    return {
        "data": data, "method": method, "backbone": backbone, "batch_size": n, "device": str(dev),
        "device_name": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
        "threads": torch.get_num_threads(), "steps": steps,
        "data_placement": placement,  # cpu | gpu (resident) | pinned (prefetched copies)
        **{k: config["train"][k] for k in ("precision", "channels_last", "compile")},
        "train_img_per_s": round(step_rate, 1), "data_img_per_s": round(data_rate, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_cuda_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if dev.type == "cuda" else 0.0,
    }
