"""How the method module is prepared for fast or multi-process training: channels-last
memory format, synchronised BatchNorm, ``torch.compile`` of the backbone and the
DistributedDataParallel wrapper. Each is a training option (engine/training/config.py)."""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from engine.training.distributed import DistInfo, all_reduce_sum, current


class GlobalBatchNorm(_BatchNorm):
    """BatchNorm whose training statistics are taken over the global batch of all ranks,
    with gradients through the reduction; for CPU (Gloo) runs, where ``nn.SyncBatchNorm``
    is not available (Ioffe & Szegedy, 2015; synchronised as in Peng et al., 2018, MegDet).

    Two reductions (sum, then the sum of squared deviations) keep the variance as accurate
    as a one-process BatchNorm's. Same parameters and buffers as BatchNorm1d/2d."""

    def _check_input_dim(self, x):
        if x.dim() < 2:
            raise ValueError(f"expected at least 2D input (got {x.dim()}D input)")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C) or (N, C, ...) -> same shape."""
        if not (self.training and current().enabled):
            return super().forward(x)
        out_dtype = x.dtype
        x = x.float()  # statistics in fp32 under bf16/fp16 autocast, as BatchNorm keeps them
        dims = [0, *range(2, x.dim())]
        shape = (1, -1) + (1,) * (x.dim() - 2)
        count = all_reduce_sum(torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device))
        mean = all_reduce_sum(x.sum(dims)) / count
        var = all_reduce_sum(((x - mean.view(shape)) ** 2).sum(dims)) / count
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                m = self.momentum if self.momentum is not None else 1.0 / self.num_batches_tracked.item()
                self.running_mean.lerp_(mean.detach(), m)
                self.running_var.lerp_(var.detach() * count / (count - 1).clamp(min=1), m)
        y = (x - mean.view(shape)) * torch.rsqrt(var.view(shape) + self.eps)
        if self.affine:
            y = y * self.weight.view(shape) + self.bias.view(shape)
        return y.to(out_dtype)


def convert_global_batchnorm(module: nn.Module) -> nn.Module:
    """Replace every BatchNorm layer in ``module`` by a GlobalBatchNorm sharing its parameters
    and buffers (so state dicts and optimizers are unaffected)."""
    for name, child in module.named_children():
        if isinstance(child, _BatchNorm) and not isinstance(child, (GlobalBatchNorm, nn.SyncBatchNorm)):
            new = GlobalBatchNorm(child.num_features, child.eps, child.momentum, child.affine,
                                  child.track_running_stats)
            if child.affine:
                new.weight, new.bias = child.weight, child.bias
            if child.track_running_stats:
                new.running_mean, new.running_var = child.running_mean, child.running_var
                new.num_batches_tracked = child.num_batches_tracked
            new.train(child.training)
            setattr(module, name, new)
        else:
            convert_global_batchnorm(child)
    return module


class TrainingStep(nn.Module):
    """``forward(x, y)`` is ``method.training_step(x, y)``: DDP hooks its gradient all-reduce
    on a module's forward, and a method's entry point is ``training_step``."""

    def __init__(self, method: nn.Module):
        super().__init__()
        self.method = method

    def forward(self, x, y=None):
        return self.method.training_step(x, y)


def to_channels_last(module: nn.Module) -> None:
    """Channels-last memory format for every 4-D weight (2-D convolutions) and its 3-D
    counterpart for 5-D ones (clip backbones' 3-D convolutions), in place."""
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}
    with torch.no_grad():
        for p in module.parameters():
            if p.dim() in formats:
                p.data = p.data.contiguous(memory_format=formats[p.dim()])


def prepare_method(method: nn.Module, device: torch.device, info: DistInfo, channels_last: bool = False,
                   sync_bn: bool = False, compile_backbone: bool = False):
    """Apply the training options to ``method`` in place (before the optimizer is built) and
    return the callable a training step runs: ``step(x, y) -> {"loss": ..., **metrics}``."""
    if info.enabled and sync_bn:
        if device.type == "cuda":
            nn.SyncBatchNorm.convert_sync_batchnorm(method)
        else:
            convert_global_batchnorm(method)
        method.to(device)
    if channels_last:
        to_channels_last(method)
    if compile_backbone:
        method.backbone.compile()  # in place: parameter names (and checkpoints) stay the same
    if not info.enabled:
        return method.training_step
    ids = [device.index if device.index is not None else info.local_rank] if device.type == "cuda" else None
    # Unused parameters are allowed: some methods freeze parts for a while (SwAV's prototypes).
    # No buffer broadcast: DDP would copy rank 0's buffers over every rank's at each forward,
    # and a method's state is made global by the method itself (queues filled with keys gathered
    # from all ranks, DINO's all-reduced centre); BatchNorm statistics are per rank unless
    # ``sync_bn`` makes them global, as in the reference implementations.
    return nn.parallel.DistributedDataParallel(TrainingStep(method), device_ids=ids, find_unused_parameters=True,
                                               broadcast_buffers=False)

