"""Method state under torchrun (2 ranks, Gloo, CPU): queues hold keys from every rank's
images and DINO's centre is the mean over the global batch, so every rank's state equals the
state of one process trained on the global batch (DDP does not broadcast rank 0's buffers);
the method's accuracy is the global batch's too."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tests.plugins.torchrun_method_state import run_single

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("torchrun_method_state.py")
SMALL = {"proj_hidden": 32, "proj_dim": 16}


CASES = {
    "moco": ({**SMALL, "queue_size": 64}, ("queue.items", "queue.tags", "queue.ptr")),
    "swav": ({**SMALL, "queue_size": 32, "num_prototypes": 8, "num_local_crops": 0, "freeze_prototypes_steps": 0},
             ("queues.0.items", "queues.1.items")),
    "dino": ({"out_dim": 32, "head_hidden": 32, "bottleneck": 16, "num_local_crops": 0}, ("center",)),
}




@pytest.fixture(scope="module")
def torchrun_out(tmp_path_factory) -> Path:
    """One 2-rank torchrun launch for every case (each launch costs seconds of start-up)."""
    out = tmp_path_factory.mktemp("torchrun")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        env.pop(key, None)
    cases = {**{m: params for m, (params, _) in CASES.items()}, "shuffle": {}}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(SCRIPT), str(out), json.dumps(cases)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _ranks(out: Path, prefix: str) -> list[dict]:
    return [torch.load(out / f"{prefix}{r}.pt") for r in (0, 1)]


@pytest.mark.parametrize("method_id", list(CASES))
def test_every_rank_holds_the_global_state(torchrun_out, method_id):
    params, keys = CASES[method_id]
    ranks = _ranks(torchrun_out, f"{method_id}_rank")
    single, single_metrics = run_single(method_id, params)
    for key in keys:
        for r, rank in enumerate(ranks):
            got, want = rank["state"][key], single[key]
            assert torch.allclose(got.float(), want.float(), atol=1e-4), f"rank {r}: {key} is not the global one"
    key = {"moco": "contrastive_acc"}.get(method_id, "retrieval_acc")  # global, not per rank
    for rank in ranks:
        assert rank["metrics"][key] == pytest.approx(single_metrics[key], abs=1e-6)
    if method_id == "moco":  # both ranks' images have keys in both queues
        tags = ranks[1]["state"]["queue.tags"]
        assert set(tags.tolist()) == set(single["queue.tags"].tolist())


def test_shuffling_bn_returns_each_ranks_rows_computed_across_ranks(torchrun_out):
    """MoCo's shuffling BN: the key encoder sees a batch permuted across ranks, and every rank
    gets the outputs of its own inputs back, in order."""
    ranks = _ranks(torchrun_out, "shuffle")
    where = torch.cat([r["y"][:, 1] for r in ranks])
    for r in ranks:
        assert torch.equal(r["y"][:, 0], r["x"][:, 0])
    assert set(where.tolist()) == {0.0, 1.0}  # some of rank 0's rows were computed on rank 1
    assert not torch.equal(ranks[0]["y"][:, 1], torch.zeros(8))
