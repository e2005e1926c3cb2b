"""Data-parallel training: two ranks under torchrun (Gloo, CPU) follow the same loss trajectory
as one process with the same global batch; the pieces that make that true are tested alone."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.ssl import augment
from engine.store.database import Store
from engine.training import distributed
from engine.training.batch_source import BatchSource

ROOT = Path(__file__).resolve().parents[2]
SETS = {"train_size": "128", "test_size": "32", "image_size": "16", "width": "8", "proj_hidden": "64",
        "proj_dim": "32", "sync_bn": "true", "knn_every": "0", "warmup_epochs": "0"}


def test_rank_batches_partition_the_global_batch():
    images = torch.arange(40, dtype=torch.uint8).view(40, 1, 1, 1).expand(40, 3, 2, 2).contiguous()
    whole = BatchSource(images, None, torch.device("cpu"), batch_size=8, seed=3)
    ranks = [BatchSource(images, None, torch.device("cpu"), batch_size=4, seed=3, rank=r, world=2) for r in (0, 1)]
    assert whole.steps_per_epoch == ranks[0].steps_per_epoch == 5
    for step in range(7):  # crosses an epoch boundary
        x, _ = whole.batch(step)
        parts = torch.cat([src.batch(step)[0] for src in ranks])
        assert torch.equal(x, parts)


def test_each_rank_draws_its_slice_of_the_global_augmentation(monkeypatch):
    x = torch.randint(0, 256, (8, 3, 16, 16), dtype=torch.uint8)
    recipe = augment.ViewRecipe(size=12, blur_p=0.5, solarize_p=0.3)
    whole = recipe(x, torch.Generator().manual_seed(5))
    parts = []
    for rank in (0, 1):
        monkeypatch.setattr(distributed, "current", lambda r=rank: distributed.DistInfo(r, 2, r))
        parts.append(recipe(x[rank * 4:(rank + 1) * 4], torch.Generator().manual_seed(5)))
    assert torch.allclose(torch.cat(parts), whole, atol=1e-6)


def _losses(home: Path, run_id: str) -> list[float]:
    steps, _, _, values = Store(home).metric_series(run_id, "loss")
    assert steps == list(range(1, len(steps) + 1))
    return values


def test_two_ranks_match_one_process_with_the_global_batch(tmp_path):
    """SimCLR with SyncBN: gathered negatives (gather_with_grad), per-rank slices of batch and
    augmentation, DDP-averaged gradients -> the one-process loss curve, step by step."""
    from engine.runs.worker import execute
    from engine.training.config import build_config

    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    multi = tmp_path / "multi"
    sets = [a for k, v in SETS.items() for a in ("--set", f"{k}={v}")]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "main.py",
           "train", "--preset", "paper", "--backbone", "convnet", "--home", str(multi), "--epochs", "2", "--batch-size", "16", "--device", "cpu", *sets,
           "--set", "precision=fp32"]  # exact equality needs fp32: bf16 rounds per-rank sums differently
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = Store(multi).list_runs()
    assert len(runs) == 1 and runs[0].status == "completed"  # only rank 0 wrote the store
    multi_losses = _losses(multi, runs[0].id)

    single = tmp_path / "single"
    cfg = build_config("shapes", "simclr", "convnet", train={"epochs": 2, "batch_size": 32, "device": "cpu",
                                                                "precision": "fp32"}, sets=SETS)
    run_id = Store(single).create_run(cfg)
    assert execute(single, run_id) == "completed"
    single_losses = _losses(single, run_id)

    assert len(multi_losses) == len(single_losses) == 8
    assert single_losses[-1] < single_losses[0]  # it trains
    assert multi_losses == pytest.approx(single_losses, abs=2e-5)  # measured: < 1e-6


def test_under_torchrun_every_checkpoint_follows_a_flush_of_its_rows(tmp_path):
    """Rank 0 stores every metric row up to a checkpoint's step before writing it, also for a
    mid-epoch stop (where no epoch-end flush happens): DistributedHooks passes flush() on."""
    import json

    home, spy = tmp_path / "home", tmp_path / "saves.jsonl"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT), SPY_OUT=str(spy), SPY_HOME=str(home),
               SPY_STOP_AT="6")
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    sets = [a for k, v in SETS.items() for a in ("--set", f"{k}={v}")]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(Path(__file__).with_name("torchrun_checkpoint_spy.py")), "train", "--home", str(home),
           "--epochs", "3", "--batch-size", "16", "--device", "cpu", *sets]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    saves = [json.loads(line) for line in spy.read_text().splitlines()]
    assert saves and saves[-1]["step"] == 6, saves  # the stop's checkpoint, mid-epoch
    for save in saves:
        assert save["stored"] == list(range(1, save["step"] + 1)), saves
    (run,) = Store(home).list_runs()
    assert run.status == "stopped" and run.step == 6
