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
from engine.data.dataset import DataError
from engine.data.tensors import images_to_tensor
from engine.evaluation.weighted_knn import extract_features, knn_accuracy
from engine.runs.paths import RunDir
from engine.runs.status import RunStatus
from engine.training import checkpoint, distributed
from engine.training.batch_source import BatchSource
from engine.training.device import pick_device
from engine.training.hooks import NullHooks, TrainerHooks
from engine.training.model_setup import prepare_method
from engine.training.online_probe import OnlineProbe
from engine.training.optim import create_optimizer, create_scheduler


class TrainingError(RuntimeError):
    """A run that cannot go on; the message says why and what to try."""


class StopRequested(Exception):
    pass


@dataclass
class Outcome:
    status: RunStatus    # COMPLETED or STOPPED
    step: int
    metrics: dict


def autocast_dtype(precision: str, device: torch.device):
    if device.type != "cuda" or precision == "fp32":
        return None
    if precision == "fp16":
        return torch.float16
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def pretrain_split_name(dataset, method_cls) -> str:
    if getattr(method_cls, "needs_labels", False):
        if "train" not in dataset.splits or not dataset.has_labels:
            raise DataError(f"method {method_cls.id} needs labels and dataset {dataset.id} has none")
        return "train"
    return "unlabeled" if "unlabeled" in dataset.splits else "train"


class Trainer:
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
        self.dataset = registry.create_dataset(config["data"]["id"], config["data"]["params"], cache_dir)
        self.dataset.check()
        method_cls = registry.get("method", config["method"]["id"]).cls
        split = self.dataset.split(pretrain_split_name(self.dataset, method_cls))
        if len(split) < 2:
            raise DataError(f"dataset {self.dataset.id} has {len(split)} images; at least 2 are needed")
        self.skipped = split.skipped  # unreadable files the dataset left out
        self.image_size = int(split.images.shape[1])
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
        self.steps_per_epoch = self.data.steps_per_epoch
        self.total_steps = self.steps_per_epoch * t["epochs"]
        self.optimizer = create_optimizer(self.method, t["optimizer"], t["lr"], t["weight_decay"], t["momentum"])
        warmup = int(round(t["warmup_epochs"] * self.steps_per_epoch))
        self.scheduler = create_scheduler(self.optimizer, self.total_steps, warmup, t["schedule"])
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.step = 0
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
        self.hooks.flush()  # rows before a checkpoint are stored first: a resume never leaves a gap
        path = self.run_dir.last_checkpoint
        if self.dist.is_main:  # under torchrun every rank holds the same weights
            checkpoint.save_atomic(self.state(), path)
        return path

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
        n_cls = int(max(by.max(), qy.max())) + 1
        return knn_accuracy(fb, by.to(self.device), fq, qy, k=self.t["knn_k"], num_classes=n_cls)

    def _autocast(self):
        if self.amp_dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    # --- the loop ------------------------------------------------------------------------------
    def _batch(self, step: int):
        return self.data.batch(step)  # order depends on (seed, epoch) only

    def train_step(self, x, y) -> dict:
        with self._autocast():
            out = self._step(x, y)  # method.training_step, through DDP under torchrun
        loss = out["loss"]
        if not torch.isfinite(loss.detach()):
            raise TrainingError(f"the loss became {loss.item()} at step {self.step + 1}; lower the learning rate "
                                f"(now {self.scheduler.get_last_lr()[0]:.3g}) or lengthen the warm-up")
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        lr = self.scheduler.get_last_lr()[0]
        self.scheduler.step()
        self.step += 1
        self.method.on_step_end(self.step / self.total_steps)
        metrics = {k: (v.item() if torch.is_tensor(v) else float(v)) for k, v in out.items()}
        metrics["lr"] = lr
        return metrics

    def _wait_while_paused(self) -> None:
        while self.hooks.control() == "pause":
            time.sleep(0.2)

    def run(self) -> Outcome:
        metrics: dict = {}
        last = time.perf_counter()
        while self.step < self.total_steps:
            control = self.hooks.control()
            if control == "pause":
                self.save_checkpoint()
                self.hooks.text(f"paused at step {self.step}")
                self._wait_while_paused()
                control = self.hooks.control()
                last = time.perf_counter()
            if control == "stop":
                self.save_checkpoint()
                self.hooks.text(f"stopped at step {self.step}; checkpoint saved")
                return Outcome(RunStatus.STOPPED, self.step, metrics)
            x, y = self._batch(self.step)
            metrics = self.train_step(x, y)
            if self.online_probe is not None:
                metrics.update(self.online_probe.update(self.step, x, y))
            now = time.perf_counter()
            metrics["img_per_s"] = self.batch_size * self.dist.world / max(now - last, 1e-9)
            last = now
            epoch = self.step / self.steps_per_epoch
            metrics["epoch"] = epoch
            self.hooks.on_step(self.step, self.total_steps, epoch, metrics)
            if self.step % self.steps_per_epoch == 0:
                self._end_epoch(self.step // self.steps_per_epoch, metrics)
                last = time.perf_counter()
        return Outcome(RunStatus.COMPLETED, self.step, metrics)

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
            checkpoint.save_atomic({"backbone": self.method.backbone.state_dict(), "config": self.config}, path)
        return path
