"""Run a method for a few DDP steps under torchrun (Gloo, CPU) and save every rank's state.

``python -m torch.distributed.run --nproc_per_node=2 torchrun_method_state.py OUT JSON``, JSON
mapping method ids to their parameters (one launch for all: starting torchrun is the slow
part): for each method, each rank trains on its slice of the same global batches
(prepare_method, global BatchNorm, SGD), then writes ``OUT/{method}_rank{r}.pt`` (its state
dict and the last step's metrics); the id ``shuffle`` checks shuffling BN instead.
``run_single`` does the same in one process with the global batch, for comparison."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from engine.training import distributed  # noqa: E402
from engine.training.model_setup import prepare_method  # noqa: E402
from tests.plugins.method_harness import build_method, shapes_split  # noqa: E402

STEPS, GLOBAL_BATCH = 3, 16


def _steps(method, step_fn, rank: int, world: int):
    images, _, _ = shapes_split(16, 64)
    opt = torch.optim.SGD([p for p in method.parameters() if p.requires_grad], lr=0.05)
    order = torch.Generator().manual_seed(1)
    n = GLOBAL_BATCH // world
    out = {}
    for step in range(STEPS):
        idx = torch.randperm(len(images), generator=order)[:GLOBAL_BATCH]
        x = images[idx][rank * n:(rank + 1) * n]
        out = step_fn(x, None)
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        method.on_step_end((step + 1) / STEPS)
    return {k: float(v.detach()) if torch.is_tensor(v) else float(v) for k, v in out.items()}


def run_single(method_id: str, params: dict) -> tuple[dict, dict]:
    """(state dict, last metrics) of one process trained on the global batches."""
    torch.set_num_threads(1)
    method = build_method(method_id, params)
    method.train()
    metrics = _steps(method, method.training_step, 0, 1)
    return method.state_dict(), metrics


def check_shuffle(out: Path) -> None:
    """Shuffling BN: each rank gets its own rows back, computed on some rank."""
    from engine.ssl.shuffle_bn import shuffled_forward

    rank = distributed.current().rank
    x = torch.arange(8.0).view(8, 1) + 100 * rank
    y = shuffled_forward(lambda t: torch.cat([t, torch.full_like(t, float(rank))], 1), x)
    torch.save({"x": x, "y": y}, out / f"shuffle{rank}.pt")


def main(out: Path, cases: dict) -> None:
    torch.set_num_threads(1)
    info = distributed.init_from_env()
    for method_id, params in cases.items():
        if method_id == "shuffle":
            check_shuffle(out)
            continue
        method = build_method(method_id, params)
        method.train()
        step = prepare_method(method, torch.device("cpu"), info, sync_bn=True)
        metrics = _steps(method, step, info.rank, info.world)
        torch.save({"state": method.state_dict(), "metrics": metrics}, out / f"{method_id}_rank{info.rank}.pt")
    distributed.shutdown()


if __name__ == "__main__":
    main(Path(sys.argv[1]), json.loads(sys.argv[2]))
