"""Shuffling BN (He et al., 2020, MoCo, Sec. 3.3): under data parallelism the key encoder's
BatchNorm statistics are taken on a random subset of the global batch, not on the rank's
own images, so a query cannot find its key through the rank's batch statistics ("cheating"
that leaks through intra-batch communication). Needed only when BatchNorm is per rank: with
synchronised BatchNorm (``sync_bn``) the statistics are global already and the shuffle is
skipped, as it is in one process."""
from __future__ import annotations

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from engine.training.distributed import concat_all_gather, current, rank_rows


def has_local_batchnorm(module: nn.Module) -> bool:
    """True when some BatchNorm in ``module`` takes its statistics on this rank's batch alone
    (not SyncBatchNorm, not the CPU runs' GlobalBatchNorm)."""
    from engine.training.model_setup import GlobalBatchNorm

    return any(isinstance(m, _BatchNorm) and not isinstance(m, (nn.SyncBatchNorm, GlobalBatchNorm))
               for m in module.modules())


@torch.no_grad()
def shuffled_forward(encoder, x: torch.Tensor, module: nn.Module | None = None) -> torch.Tensor:
    """encoder(x) with the batch shuffled across ranks: x (N, ...) this rank's inputs ->
    (N, D) outputs for those same inputs, computed on the rank that the shared random
    permutation sent them to. ``module``: where to look for per-rank BatchNorm (the
    encoder's modules); in one process, or with synchronised BatchNorm, just encoder(x)."""
    info = current()
    if not info.enabled or (module is not None and not has_local_batchnorm(module)):
        return encoder(x)
    everything = concat_all_gather(x)
    perm = torch.randperm(everything.shape[0], device=everything.device)
    dist.broadcast(perm, src=0)  # one permutation for all ranks
    out = concat_all_gather(encoder(rank_rows(everything[perm])))
    return rank_rows(out[torch.argsort(perm)])
