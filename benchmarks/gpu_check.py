"""The GPU check: one command that exercises the engine on CUDA and prints its figures.

    python benchmarks/gpu_check.py --out gpu-check        # at most ~8 minutes on one GPU

Sections (each row: ok / failed / skipped, a figure, a detail):

1. every registered method a few steps with fp32, bf16 and fp16 autocast;
2. SimCLR ResNet-18 step time with channels_last and torch.compile on and off;
3. checkpoint and resume: a run stopped and resumed from its checkpoint follows the
   uninterrupted run's losses;
4. a 1-GPU ``torchrun`` of ``main.py train``;
5. throughput of Pretext's data path against the standard torchvision + DataLoader recipe
   (ResNet-18, 32 px, batch 512; target >= 4x), GPU busy % sampled through NVML;
6. a SimCLR ResNet-18 epoch on CIFAR-size data (50,000 32-px images in the CIFAR-10 python
   format, random pixels), data resident on the device (lightly's table: ~26-30 s per epoch
   on a V100; aim <= 5 s).

Without CUDA it runs the CPU parts (fp32 and, where the trainer supports it, bf16 steps;
checkpoint and resume; a 1-process torchrun on Gloo) and prints one line per skipped item.
Writes ``gpu_check.json`` and ``gpu_check.md`` to ``--out``.
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from engine import registry  # noqa: E402
from engine.training.config import build_config  # noqa: E402
from engine.training.trainer import Trainer, autocast_dtype  # noqa: E402

TINY = {"image_size": "32", "train_size": "256", "test_size": "64"}


class Report:
    """Rows of the check, printed as they come, with a time budget shared by all sections."""

    def __init__(self, budget_s: float):
        self.rows: list[dict] = []
        self.deadline = time.monotonic() + budget_s

    def add(self, section: str, item: str, status: str, figure: str = "", detail: str = "") -> None:
        row = {"section": section, "item": item, "status": status, "figure": figure, "detail": detail}
        self.rows.append(row)
        text = f"[{status}] {section}: {item}" + (f" — {figure}" if figure else "") + (f" ({detail})" if detail else "")
        print(text, flush=True)

    def skip(self, section: str, item: str, why: str) -> None:
        self.add(section, item, "skipped", detail=why)

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline


class TimingHooks:
    """Trainer hooks that only record when each step ended (the TrainerHooks methods)."""

    def __init__(self):
        self.times: list[float] = []

    def on_step(self, step, total, epoch, metrics):
        self.times.append(time.perf_counter())

    def on_epoch(self, epoch, metrics): ...
    def control(self) -> str: return ""
    def text(self, message): ...
    def flush(self): ...


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def make_trainer(home: Path, method: str, backbone: str, device: str, train: dict | None = None,
                 sets: dict | None = None, data: str = "shapes", hooks=None) -> Trainer:
    t = {"epochs": 1000, "batch_size": 64, "device": device, "knn_every": 0, "warmup_epochs": 0, **(train or {})}
    config = build_config(data, method, backbone, train=t, sets={**TINY, **(sets or {})} if data == "shapes" else sets)
    run_dir = Path(tempfile.mkdtemp(dir=home))
    return Trainer(config, run_dir, home / "cache", hooks=hooks)


def step_seconds(trainer: Trainer, steps: int, warmup: int = 1) -> tuple[float, list[float]]:
    """(median seconds per step after ``warmup`` steps, the losses of all steps)."""
    losses, times = [], []
    for i in range(warmup + steps):
        _sync(trainer.device)
        start = time.perf_counter()
        metrics = trainer.train_step(*trainer._batch(trainer.step))
        _sync(trainer.device)
        losses.append(float(metrics["loss"]))  # train_step leaves it on the device
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times), losses


def check_methods(report: Report, home: Path, device: str, methods: list[str], steps: int) -> None:
    section = "methods"
    precisions = ["fp32", "bf16", "fp16"] if device == "cuda" else ["fp32"]
    if device != "cuda":
        if autocast_dtype("auto", torch.device("cpu")) is not None:  # bf16 where the CPU has it natively
            precisions.append("bf16")
        else:
            report.skip(section, "bf16 autocast on the CPU", "this CPU has no native bf16 (it would be emulated)")
        report.skip(section, "fp16 autocast", "no CUDA GPU")
    for method in methods:
        for precision in precisions:
            if report.out_of_time():
                report.skip(section, f"{method} {precision}", "time budget spent")
                continue
            error = ""
            for backbone in ("convnet", "vit_tiny"):  # MAE needs a ViT
                try:
                    trainer = make_trainer(home, method, backbone, device, {"precision": precision})
                    seconds, losses = step_seconds(trainer, steps)
                except Exception as exc:  # noqa: BLE001 -- a failing method is a row, not the end
                    error = f"{backbone}: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
                    continue
                finite = all(np.isfinite(losses))
                report.add(section, f"{method} {precision}", "ok" if finite else "failed",
                           f"{1000 * seconds:.1f} ms/step", f"{backbone}, losses {losses[0]:.3f} -> {losses[-1]:.3f}")
                break
            else:
                report.add(section, f"{method} {precision}", "failed", detail=error)


def check_speed_options(report: Report, home: Path, device: str) -> None:
    section = "speed options"
    if device != "cuda":
        report.skip(section, "channels_last and compile on ResNet-18", "no CUDA GPU (measured on the CPU by benchmarks/throughput.py)")
        return
    for channels_last in (False, True):
        for compile_ in (False, True):
            item = f"channels_last={channels_last} compile={compile_}"
            if report.out_of_time():
                report.skip(section, item, "time budget spent")
                continue
            try:
                trainer = make_trainer(home, "simclr", "resnet18", device, {
                    "batch_size": 256, "channels_last": channels_last, "compile": compile_})
                seconds, _ = step_seconds(trainer, steps=10, warmup=3 if compile_ else 1)
                report.add(section, item, "ok", f"{256 / seconds:.0f} img/s", f"{1000 * seconds:.1f} ms/step, bf16 autocast")
            except Exception as exc:  # noqa: BLE001
                report.add(section, item, "failed", detail=f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}")


def check_resume(report: Report, home: Path, device: str) -> None:
    """6 steps straight against 3 steps, checkpoint, a new trainer loading it, 3 more steps."""
    section = "checkpoint and resume"
    train = {"optimizer": "sgd", "lr": 0.05}
    straight = make_trainer(home, "simclr", "convnet", device, train)
    _, expected = step_seconds(straight, steps=6, warmup=0)
    first = make_trainer(home, "simclr", "convnet", device, train)
    step_seconds(first, steps=3, warmup=0)
    path = first.save_checkpoint()
    second = make_trainer(home, "simclr", "convnet", device, train)
    second.run_dir = first.run_dir
    second.load_checkpoint(path)
    _, resumed = step_seconds(second, steps=3, warmup=0)
    diff = max(abs(a - b) for a, b in zip(expected[3:], resumed))
    tolerance = 1e-5 if device == "cpu" else 1e-2  # cuDNN may pick other kernels after a reload
    report.add(section, f"resume at step 3 on {device}", "ok" if second.step == 6 and diff <= tolerance else "failed",
               f"max loss difference {diff:.2e}", f"tolerance {tolerance:g}")


def check_torchrun(report: Report, home: Path, device: str) -> None:
    section = "torchrun"
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    run_home = home / "torchrun"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1", str(ROOT / "main.py"),
           "train", "--home", str(run_home), "--method", "simclr", "--backbone", "convnet", "--epochs", "1",
           "--device", device, "--set", "train_size=256", "--set", "test_size=64", "--set", "knn_every=0"]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    seconds = time.perf_counter() - start
    shown = subprocess.run([sys.executable, str(ROOT / "main.py"), "runs", "--home", str(run_home), "--json"],
                           env=env, capture_output=True, text=True, timeout=60, cwd=ROOT)
    try:
        status = json.loads(shown.stdout)[0]["status"]
    except (ValueError, IndexError, KeyError):
        status = "no run"
    ok = proc.returncode == 0 and status == "completed"
    report.add(section, f"1 process on {device}", "ok" if ok else "failed", f"{seconds:.1f} s",
               f"exit {proc.returncode}, run {status}" + ("" if ok else f": {proc.stderr.strip()[-300:]}"))


class GpuBusy:
    """Mean GPU utilisation (%) sampled through NVML every 50 ms while active."""

    def __init__(self):
        import pynvml

        pynvml.nvmlInit()
        self.nvml, self.handle = pynvml, pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.wait(0.05):
            self.samples.append(self.nvml.nvmlDeviceGetUtilizationRates(self.handle).gpu)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    @property
    def mean(self) -> float:
        return statistics.mean(self.samples) if self.samples else float("nan")


def check_throughput(report: Report, home: Path, device: str) -> None:
    section = "throughput"
    if device != "cuda":
        report.skip(section, "ResNet-18 32 px batch 512 against torchvision + DataLoader",
                    "no CUDA GPU (the CPU comparison is benchmarks/throughput.py)")
        return
    from throughput import TwoViews, ours_phase, standard_phase
    from torch.utils.data import DataLoader

    batch, steps = 512, 10
    trainer = make_trainer(home, "simclr", "resnet18", device, {"batch_size": batch},
                           sets={"train_size": str(batch * (steps + 2))})
    split = trainer.dataset.split("train")
    loader = DataLoader(TwoViews(split.images, 32, 0.2, 0.5), batch_size=batch, shuffle=True, drop_last=True,
                        num_workers=os.cpu_count(), pin_memory=True)
    try:
        busy = GpuBusy()
    except Exception as exc:  # noqa: BLE001 -- NVML missing or refused: measure without it
        busy, why = None, f"NVML unavailable: {exc}"
    if busy is not None:
        with busy:
            ours, _ = ours_phase(trainer, steps, warmup=2)
        why = f"GPU busy {busy.mean:.0f} % over {len(busy.samples)} samples"
    else:
        ours, _ = ours_phase(trainer, steps, warmup=2)
    standard, _ = standard_phase(trainer, loader, steps, warmup=2)
    ratio = ours / standard
    report.add(section, "ours against torchvision + DataLoader", "ok" if ratio >= 4 else "failed",
               f"{ours:.0f} vs {standard:.0f} img/s = {ratio:.1f}x (target 4x)", why)


def write_cifar_size(folder: Path, n: int = 50000, seed: int = 0) -> Path:
    """The CIFAR-10 python batches' format (5 training batches, a test batch, the meta file)
    with random pixels: as much data as CIFAR-10, read by the real cifar10 loader."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    per = n // 5
    for name, count in [(f"data_batch_{i}", per) for i in range(1, 6)] + [("test_batch", 1000)]:
        batch = {b"batch_label": name.encode(), b"labels": rng.integers(0, 10, count).tolist(),
                 b"data": rng.integers(0, 256, (count, 3072), dtype=np.uint8),
                 b"filenames": [f"{i}.png".encode() for i in range(count)]}
        with open(folder / name, "wb") as f:
            pickle.dump(batch, f, protocol=4)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [f"class {i}".encode() for i in range(10)], b"num_cases_per_batch": per,
                     b"num_vis": 3072}, f, protocol=4)
    return folder


def check_epoch(report: Report, home: Path, device: str) -> None:
    section = "epoch time"
    item = "SimCLR ResNet-18, 50,000 CIFAR-size images, batch 512"
    if device != "cuda":
        report.skip(section, item, "no CUDA GPU")
        return
    if report.out_of_time():
        report.skip(section, item, "time budget spent")
        return
    root = write_cifar_size(home / "cifar-size")
    hooks = TimingHooks()
    trainer = make_trainer(home, "simclr", "resnet18", device, {"batch_size": 512, "epochs": 2},
                           sets={"root": str(root)}, data="cifar10", hooks=hooks)
    trainer.run()
    per_epoch = trainer.steps_per_epoch
    second = hooks.times[2 * per_epoch - 1] - hooks.times[per_epoch - 1]  # the first holds compile/autotune
    report.add(section, item, "ok" if second <= 5 else "failed", f"{second:.2f} s per epoch (target 5 s)",
               f"{per_epoch} steps, second epoch, data {trainer.data.placement}")


def write_outputs(report: Report, out: Path, info: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps({"machine": info, "rows": report.rows}, indent=1))
    lines = [f"# GPU check — {info['device_name']}", "", f"torch {info['torch']}, CUDA {info['cuda']}", "",
             "| section | item | status | figure | detail |", "|---|---|---|---|---|"]
    lines += [f"| {r['section']} | {r['item']} | {r['status']} | {r['figure']} | {r['detail']} |" for r in report.rows]
    (out / "gpu_check.md").write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="gpu-check", help="folder for gpu_check.json and gpu_check.md")
    p.add_argument("--methods", default="", help="comma-separated method ids (default: every registered method)")
    p.add_argument("--steps", type=int, default=3, help="timed steps per method and precision")
    p.add_argument("--budget", type=float, default=450, help="seconds after which remaining items are skipped")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    args = p.parse_args(argv)
    device = args.device if args.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        print("error: --device cuda was asked for but no CUDA GPU is available", file=sys.stderr)
        return 2
    registry.discover()
    known = [e.id for e in registry.entries("method")]
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] or known
    unknown = sorted(set(methods) - set(known))
    if unknown:
        print(f"error: unknown method {unknown[0]!r} (known: {', '.join(known)})", file=sys.stderr)
        return 2
    report = Report(args.budget)
    info = {"device": device, "device_name": torch.cuda.get_device_name() if device == "cuda" else "CPU only",
            "torch": torch.__version__, "cuda": torch.version.cuda, "cpu_count": os.cpu_count()}
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="pretext-gpu-check-") as tmp:
        home = Path(tmp)
        for check in (check_methods, check_speed_options, check_resume, check_torchrun, check_throughput, check_epoch):
            try:
                if check is check_methods:
                    check(report, home, device, methods, args.steps)
                else:
                    check(report, home, device)
            except Exception as exc:  # noqa: BLE001 -- one broken section must not hide the others
                report.add(check.__name__.removeprefix("check_"), "section", "failed",
                           detail=f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
    info["seconds"] = round(time.perf_counter() - start, 1)
    write_outputs(report, Path(args.out), info)
    counts = {s: sum(r["status"] == s for r in report.rows) for s in ("ok", "failed", "skipped")}
    print(f"gpu check on {info['device_name']}: {counts['ok']} ok, {counts['failed']} failed, "
          f"{counts['skipped']} skipped in {info['seconds']} s; tables in {args.out}/")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
