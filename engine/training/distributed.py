"""Data-parallel training under ``torchrun`` (DistributedDataParallel).

``torchrun --nproc_per_node=N main.py train ...`` starts N processes with ``RANK``,
``WORLD_SIZE`` and ``LOCAL_RANK`` in their environment. Each process is one rank: it holds the
whole pre-training split, trains on its slice of every global batch, and DDP averages the
gradients. Only rank 0 writes the store and checkpoints (docs/distributed.md).

Contrastive losses need every rank's embeddings as negatives: ``gather_with_grad`` concatenates
them across ranks and routes the gradients back (the ``GatherLayer`` of SimCLR's reference
code, Chen et al., 2020). ``concat_all_gather`` is the gradient-free version (MoCo's queue,
He et al., 2020).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_info() -> DistInfo:
    """Rank, world size and local rank from the torchrun environment (single process if absent)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistInfo()
    return DistInfo(int(os.environ.get("RANK", "0")), world, int(os.environ.get("LOCAL_RANK", "0")))


def launched_by_torchrun() -> bool:
    return env_info().enabled


def init_from_env() -> DistInfo:
    """Join the process group torchrun describes (once per process; a no-op outside torchrun).

    With CUDA: one GPU per local rank, NCCL for CUDA tensors and Gloo for CPU tensors (so a
    run that chose ``device=cpu`` and the small object broadcasts work too); Gloo otherwise."""
    info = env_info()
    if not info.enabled or dist.is_initialized():
        return info
    if torch.cuda.is_available():
        torch.cuda.set_device(info.local_rank)
        backend = "cpu:gloo,cuda:nccl"
    else:
        backend = "gloo"
    dist.init_process_group(backend, timeout=timedelta(minutes=30))
    return info


def current() -> DistInfo:
    """The process group this process has joined, or a single-process DistInfo."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return DistInfo()
    return DistInfo(dist.get_rank(), dist.get_world_size(), env_info().local_rank)


def shutdown() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def broadcast_object(obj, src: int = 0):
    """``obj`` of rank ``src`` on every rank (pickled; for small things like a run id)."""
    if not current().enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=src)
    return box[0]


# --- collectives with gradients ---------------------------------------------------------------
class _GatherWithGrad(torch.autograd.Function):
    """Forward: all_gather and concatenate. Backward: each rank's gradient for its slice is the
    sum of the gradients every rank computed for that slice (all_reduce SUM), so the total
    objective is the sum of the per-rank losses; DDP's gradient averaging then makes it the mean."""

    @staticmethod
    def forward(ctx, z):
        ctx.rank, ctx.n = dist.get_rank(), z.shape[0]
        parts = [torch.empty_like(z) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, z.contiguous())
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.n:(ctx.rank + 1) * ctx.n]


def gather_with_grad(z: torch.Tensor) -> torch.Tensor:
    """z: (N, D) on this rank -> (world * N, D), rank 0's rows first; differentiable.

    Every rank must call it with the same N. Returns z itself outside DDP."""
    if not current().enabled:
        return z
    return _GatherWithGrad.apply(z)


@torch.no_grad()
def concat_all_gather(z: torch.Tensor) -> torch.Tensor:
    """z: (N, ...) -> (world * N, ...) without gradients (e.g. keys for a MoCo queue)."""
    if not current().enabled:
        return z
    parts = [torch.empty_like(z) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, z.contiguous())
    return torch.cat(parts)


def rank_rows(z: torch.Tensor) -> torch.Tensor:
    """z: (world * N, ...) gathered as ``concat_all_gather`` orders it -> (N, ...), this rank's
    rows (z itself outside DDP)."""
    info = current()
    if not info.enabled:
        return z
    n = z.shape[0] // info.world
    return z[info.rank * n:(info.rank + 1) * n]


class _AllReduceSum(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        x = x.clone()
        dist.all_reduce(x, op=dist.ReduceOp.SUM)
        return x

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad


def all_reduce_sum(x: torch.Tensor) -> torch.Tensor:
    """Differentiable sum over ranks (x itself outside DDP)."""
    return _AllReduceSum.apply(x) if current().enabled else x


# --- the per-step control flag ------------------------------------------------------------------
_CONTROL_CODES = ("", "pause", "stop")


class DistributedHooks:
    """Trainer hooks for one rank: rank 0 reports through ``inner`` (the store, the progress
    bar); other ranks report nothing. ``control()`` is decided by rank 0 and broadcast, so a
    stop or pause reaches every rank at the same step and no rank waits in a collective alone."""

    def __init__(self, inner, info: DistInfo, device: torch.device):
        self.inner, self.info, self.device = inner, info, device

    def on_step(self, step, total, epoch, metrics):
        if self.info.is_main:
            self.inner.on_step(step, total, epoch, metrics)

    def on_epoch(self, epoch, metrics):
        if self.info.is_main:
            self.inner.on_epoch(epoch, metrics)

    def text(self, message):
        if self.info.is_main:
            self.inner.text(message)

    def flush(self):
        """Rank 0 stores its rows before the checkpoint it alone writes; no collective, so it
        is safe where only some ranks reach it."""
        if self.info.is_main:
            self.inner.flush()

    def control(self) -> str:
        value = self.inner.control() if self.info.is_main else ""
        code = torch.tensor([_CONTROL_CODES.index(value) if value in _CONTROL_CODES else 0], device=self.device)
        dist.broadcast(code, src=0)
        return _CONTROL_CODES[int(code.item())]


def wrap_hooks(hooks, device: torch.device):
    """``hooks`` unchanged in one process; DistributedHooks under torchrun."""
    info = current()
    return DistributedHooks(hooks, info, device) if info.enabled else hooks
