"""The training loop: one run from its config to checkpoints, metrics and a final backbone.

The trainer knows nothing of the store or the terminal: it reports through ``hooks``
(engine.training.hooks.TrainerHooks), which the worker and the CLI provide.
"""
from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import torch

from engine import registry
from engine.capabilities import SampleKind
from engine.data.dataset import DataError
from engine.data.frames import as_input
from engine.data.tensors import images_to_tensor
from engine.evaluation.weighted_knn import extract_features, knn_accuracy
from engine.runs.paths import RunDir
from engine.runs.status import RunStatus
from engine.training import checkpoint, distributed
from engine.training.audio_batches import AudioBatches
from engine.training.batch_source import BatchSource
from engine.training.device import pick_device
from engine.training.hooks import NullHooks, TrainerHooks
from engine.training.model_setup import prepare_method
from engine.training.online_probe import OnlineProbe
from engine.training.optim import create_optimizer, create_scheduler
from engine.training.precision import autocast_dtype  # benchmarks/gpu_check.py reads it from here
from engine.training.reference import CHANCE_KEY, RANDOM_INIT_KEY, cached_reference
from engine.training.step_metrics import PendingSteps, StepRow, first_non_finite
from engine.training.system_metrics import SystemSampler


class TrainingError(RuntimeError):
    """A run that cannot go on; the message says why and what to try."""


class StopRequested(Exception):
    pass


@dataclass
class Outcome:
    status: RunStatus    # COMPLETED or STOPPED
    step: int
    metrics: dict


def pretrain_split_name(dataset, method_cls) -> str:
    if getattr(method_cls, "needs_labels", False):
        if "train" not in dataset.splits or not dataset.has_labels:
            raise DataError(f"method {method_cls.id} needs labels and dataset {dataset.id} has none")
        return "train"
    return "unlabeled" if "unlabeled" in dataset.splits else "train"


class Trainer:
    checkpoint_tag = ""  # names this owner's checkpoint temp files (the worker sets its lease's)
    after_checkpoint = None  # called with each saved checkpoint's path (a Ray task sends it home)

    def __init__(self, config: dict, run_dir: RunDir | Path, cache_dir: Path | None = None,
                 hooks: TrainerHooks | None = None):
        self.config, self.run_dir = config, RunDir.of(run_dir)
        t = config["train"]
        self.t = t
        self.device = pick_device(t["device"])
        self.dist = distributed.init_from_env()  # a no-op outside torchrun
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
        self.hooks = distributed.wrap_hooks(hooks or NullHooks(), self.device)
        self.amp_dtype = autocast_dtype(t["precision"], self.device)
        torch.manual_seed(t["seed"])
        self.cache_dir = cache_dir
        method_cls = registry.get("method", config["method"]["id"]).cls
        dataset = registry.create_dataset(config["data"]["id"], config["data"]["params"], cache_dir)
        self.dataset = as_input(dataset, method_cls.input_kind)  # an image method reads clips as frames
        self.dataset.check()
        split = self.dataset.split(pretrain_split_name(self.dataset, method_cls))
        if len(split) < 2:
            raise DataError(f"dataset {self.dataset.id} has {len(split)} images; at least 2 are needed")
        self.skipped = split.skipped  # unreadable files the dataset left out
        self.image_size = int(split.images.shape[-2])
        num_classes = len(split.classes) if split.classes else None
        backbone = registry.create_backbone(config["backbone"]["id"], config["backbone"]["params"], self.image_size)
        self.method = registry.create_method(config["method"]["id"], backbone, config["method"]["params"],
                                             self.image_size, num_classes).to(self.device)
        self.method.set_seed(t["seed"])
        self._step = prepare_method(self.method, self.device, self.dist, t.get("channels_last", False),
                                    t.get("sync_bn", False), t.get("compile", False))
        self.batch_size = min(t["batch_size"], len(split) // self.dist.world)  # per process
        labels = torch.from_numpy(split.labels) if split.labels is not None else None
        self.data = BatchSource(split.images, labels, self.device, self.batch_size, t["seed"],
                                self.dist.rank, self.dist.world, t.get("gpu_data_fraction", 0.5))
        self.images, self.labels = self.data.images, self.data.labels
        self.sound = AudioBatches(split, self.device) if method_cls.input_kind == SampleKind.CLIP_AUDIO else None
        self.steps_per_epoch = self.data.steps_per_epoch
        self.total_steps = self.steps_per_epoch * t["epochs"]
        self.optimizer = create_optimizer(self.method, t["optimizer"], t["lr"], t["weight_decay"], t["momentum"])
        warmup = int(round(t["warmup_epochs"] * self.steps_per_epoch))
        self.scheduler = create_scheduler(self.optimizer, self.total_steps, warmup, t["schedule"])
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.step = 0
        self.pending = PendingSteps()  # steps whose metrics are still on the device
        self.last_metrics: dict = {}  # the last step read to the host
        self._interval_start = time.perf_counter()  # img_per_s: steps since here over this time
        self.system = SystemSampler(self.device)
        self._knn_data = None
        self.online_probe = OnlineProbe.for_trainer(self) if t.get("online_probe") else None

    # --- checkpoints -----------------------------------------------------------------------
    def state(self) -> dict:
        return {
            "step": self.step, "model": self.method.state_dict(), "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
            "rng_cpu": torch.get_rng_state(), "rng_method": self.method.gen.get_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else [],
        }

    def save_checkpoint(self) -> Path:
        self.sync()  # raises on a non-finite loss pending on the device: no checkpoint of NaN weights
        self._check_weights_finite()
        self.hooks.flush()  # rows before a checkpoint are stored first: a resume never leaves a gap
        path = self.run_dir.last_checkpoint
        if self.dist.is_main:  # under torchrun every rank holds the same weights
            checkpoint.save_atomic(self.state(), path, tag=self.checkpoint_tag)
            if self.after_checkpoint is not None:
                self.after_checkpoint(path)
        return path

    def _check_weights_finite(self) -> None:
        """One host sync per checkpoint; catches a gradient that overflowed under a finite loss."""
        flags = [torch.isfinite(p.detach()).all() for p in self.method.parameters()]
        if flags and not bool(torch.stack(flags).all()):
            raise TrainingError(f"the weights became non-finite by step {self.step}; lower the learning rate "
                                f"(now {self.scheduler.get_last_lr()[0]:.3g}) or lengthen the warm-up")

    def load_checkpoint(self, path: Path) -> None:
        s = checkpoint.load(path, map_location=self.device)
        self.method.load_state_dict(s["model"])
        self.optimizer.load_state_dict(s["optimizer"])
        self.scheduler.load_state_dict(s["scheduler"])
        self.scaler.load_state_dict(s["scaler"])
        torch.set_rng_state(s["rng_cpu"].cpu())
        self.method.gen.set_state(s["rng_method"].cpu())
        if s["rng_cuda"] and self.device.type == "cuda":
            torch.cuda.set_rng_state_all([r.cpu() for r in s["rng_cuda"]])
        self.step = int(s["step"])

    # --- monitors ----------------------------------------------------------------------------
    def knn_monitor(self) -> float | None:
        found = self._knn_features()
        if found is None:
            return None
        fb, by, fq, qy = found
        n_cls = int(max(by.max(), qy.max())) + 1
        return knn_accuracy(fb, by.to(self.device), fq, qy, k=self.t["knn_k"], num_classes=n_cls)

    def knn_references(self) -> dict | None:
        """Chance and random-init kNN accuracy (engine/training/reference.py), before step 1."""
        def compute():
            found = self._knn_features()
            if found is None:
                return None
            fb, by, fq, qy = found
            n_cls = int(max(by.max(), qy.max())) + 1
            return {RANDOM_INIT_KEY: knn_accuracy(fb, by.to(self.device), fq, qy, k=self.t["knn_k"],
                                                  num_classes=n_cls),
                    CHANCE_KEY: float(torch.bincount(qy, minlength=n_cls).max()) / len(qy)}  # best constant guess
        return cached_reference(self.cache_dir, self.config, compute)

    def _knn_features(self):
        """(train features, train labels, test features, test labels), or None without labels."""
        if "test" not in self.dataset.splits or not self.dataset.has_labels:
            return None
        if self._knn_data is None:
            bank, query = self.dataset.split("train"), self.dataset.split("test")
            if bank.labels is None or query.labels is None:
                return None
            self._knn_data = (images_to_tensor(bank.images), torch.from_numpy(bank.labels),
                              images_to_tensor(query.images), torch.from_numpy(query.labels))
        bx, by, qx, qy = self._knn_data
        was_training = self.method.training
        self.method.eval()
        with self._autocast():
            fb = extract_features(self.method.embed, bx, device=self.device)
            fq = extract_features(self.method.embed, qx, device=self.device)
        self.method.train(was_training)
        return fb, by, fq, qy

    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    # --- the loop ------------------------------------------------------------------------------
    def _batch(self, step: int):
        x, y = self.data.batch(step)  # order depends on (seed, epoch) only
        if self.sound is not None:  # clips with their soundtracks, gathered at the same indices
            x = self.sound.with_sound(x, self.data.indices(step))
        return x, y

    def train_step(self, x, y) -> dict:
        """One optimiser step. Returns that step's metrics as they are, without waiting for the
        device: ``{"loss": 0-d tensor, **method metrics (tensors or numbers), "lr": float}``.
        Nothing here reads a device value; ``run`` checks the loss when it syncs."""
        with self._autocast():
            out = self._step(x, y)  # method.training_step, through DDP under torchrun
        loss = out["loss"]
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)  # fp16 only: the scaler reads its inf check (a sync)
        self.scaler.update()
        lr = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        self.step += 1
        self.method.on_step_end(self.step / self.total_steps)
        metrics = {k: v.detach() if torch.is_tensor(v) else v for k, v in out.items()}
        metrics["lr"] = lr
        return metrics

    def sync(self) -> dict:
        """Read every pending step's metrics (one host sync), report each through ``on_step``
        and return the last one's. A non-finite loss ends the run with TrainingError naming its
        step, after the steps before it are reported; the steps after it are dropped."""
        rows = self.pending.drain()
        if not rows:
            return {}
        now = time.perf_counter()
        rate = len(rows) * self.batch_size * self.dist.world / max(now - self._interval_start, 1e-9)
        self._interval_start = now
        bad = first_non_finite(rows)
        if bad is None:
            rows[-1].metrics.update(self.system.sample())
        for row in rows[:bad]:
            row.metrics["img_per_s"] = rate
            self.hooks.on_step(row.step, self.total_steps, row.metrics["epoch"], row.metrics)
        if bad is not None:
            self._raise_non_finite(rows[bad])
        self.last_metrics = rows[-1].metrics
        return self.last_metrics

    def _raise_non_finite(self, row: StepRow) -> None:
        raise TrainingError(f"the loss became {row.metrics['loss']} at step {row.step}; lower the learning rate "
                            f"(now {row.metrics['lr']:.3g}) or lengthen the warm-up")

    def _wait_while_paused(self) -> None:
        while self.hooks.control() == "pause":
            time.sleep(0.2)

    def run(self) -> Outcome:
        if self.step == 0 and self.t["knn_every"]:  # the levels the kNN curve is read against
            references = self.knn_references()
            if references:
                self.hooks.on_epoch(0, references)
        self._interval_start = time.perf_counter()
        while self.step < self.total_steps:
            control = self.hooks.control()
            if control == "pause":
                self.save_checkpoint()
                self.hooks.text(f"paused at step {self.step}")
                self._wait_while_paused()
                control = self.hooks.control()
                self._interval_start = time.perf_counter()
            if control == "stop":
                self.save_checkpoint()
                self.hooks.text(f"stopped at step {self.step}; checkpoint saved")
                return Outcome(RunStatus.STOPPED, self.step, self.last_metrics)
            x, y = self._batch(self.step)
            values = self.train_step(x, y)
            if self.online_probe is not None:
                values.update(self.online_probe.update(self.step, getattr(x, "frames", x), y))
            values["epoch"] = self.step / self.steps_per_epoch
            self.pending.add(self.step, values)
            epoch_end = self.step % self.steps_per_epoch == 0
            if epoch_end or self.pending.due():
                self.sync()
            if epoch_end:
                self._end_epoch(self.step // self.steps_per_epoch, self.last_metrics)
                self._interval_start = time.perf_counter()
        return Outcome(RunStatus.COMPLETED, self.step, self.last_metrics)

    def _end_epoch(self, epoch: int, metrics: dict) -> None:
        every = self.t["knn_every"]
        if every and (epoch % every == 0 or epoch == self.t["epochs"]):
            acc = self.knn_monitor()
            if acc is not None:
                metrics["knn_acc"] = acc
        self.hooks.on_epoch(epoch, {k: v for k, v in metrics.items() if k == "knn_acc"})
        self.save_checkpoint()
        self.hooks.text(f"epoch {epoch} done: " + ", ".join(
            f"{k} {v:.4g}" for k, v in metrics.items() if not math.isnan(v)))

    def save_backbone(self) -> Path:
        path = self.run_dir.backbone
        if self.dist.is_main:
            checkpoint.save_atomic({"backbone": self.method.backbone.state_dict(), "config": self.config}, path,
                                  tag=self.checkpoint_tag)
        return path
