"""Where the pre-training split lives and how each step's batch reaches the device.

The split is one uint8 tensor ``(N, 3, H, W)``. On a GPU it is held in GPU memory when it fits
in ``gpu_data_fraction`` of the free memory, so a batch is one index-gather with no host
traffic. Otherwise it stays in pinned host memory: each batch is gathered into a pinned
buffer and copied with ``non_blocking=True`` on a side CUDA stream one step ahead, so the
copy overlaps the previous step's compute. On the CPU the tensor is used as it is.

Order: a permutation per epoch that depends on (seed, epoch) only. Under torchrun the
global batch is ``batch_size x world``; rank r takes rows ``[r*B, (r+1)*B)`` of it, so the
union of the ranks' batches is exactly the one-process batch of size ``B x world``.
"""
from __future__ import annotations

import torch


def fits_on_device(nbytes: int, device: torch.device, fraction: float) -> bool:
    """True on the CPU; on CUDA, whether ``nbytes`` is at most ``fraction`` of free memory."""
    if device.type != "cuda":
        return True
    free, _total = torch.cuda.mem_get_info(device)
    return nbytes <= fraction * free


class BatchSource:
    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None, device: torch.device,
                 batch_size: int, seed: int, rank: int = 0, world: int = 1,
                 gpu_data_fraction: float = 0.5):
        """images: (N, 3, H, W) uint8 on the CPU; labels: (N,) int64 or None."""
        self.device, self.batch_size, self.seed = device, batch_size, seed
        self.rank, self.world = rank, world
        self.steps_per_epoch = len(images) // (batch_size * world)
        self.on_device = fits_on_device(images.numel() * images.element_size(), device, gpu_data_fraction)
        self.labels = labels.to(device) if labels is not None else None  # (N,) int64: always small
        if self.on_device:
            self.images = images.to(device)
        else:  # pinned host memory makes the host-to-device copy asynchronous
            self.images = images.pin_memory()
            shape = (batch_size, *images.shape[1:])
            self._staging = [torch.empty(shape, dtype=images.dtype).pin_memory() for _ in range(2)]
            self._copied = [None, None]  # CUDA events: when each staging buffer may be refilled
            self._stream = torch.cuda.Stream(device)
        self._perm_epoch, self._perm = None, None
        self._ahead = None  # (step, x on device, ready event) prefetched on the side stream

    @property
    def placement(self) -> str:
        if self.device.type != "cuda":
            return "cpu"
        return "gpu" if self.on_device else "pinned"

    def indices(self, step: int, on_device: bool = False) -> torch.Tensor:
        """(batch_size,) int64 indices of this rank's images at ``step`` (CPU, or the device)."""
        epoch, i = divmod(step, self.steps_per_epoch)
        if self._perm_epoch != epoch:
            g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
            self._perm = torch.randperm(self.images.shape[0], generator=g)
            self._perm_device = self._perm.to(self.device)  # one copy per epoch, not per step
            self._perm_epoch = epoch
        start = (i * self.world + self.rank) * self.batch_size
        return (self._perm_device if on_device else self._perm)[start:start + self.batch_size]

    def batch(self, step: int):
        """(x (B, 3, H, W) uint8 on the device, y (B,) or None) for training step ``step``."""
        idx = self.indices(step, on_device=True)
        y = self.labels[idx] if self.labels is not None else None
        if self.on_device:
            return self.images[idx], y
        if self._ahead is not None and self._ahead[0] == step:
            x, ready = self._ahead[1], self._ahead[2]
        else:
            x, ready = self._copy(step, self.indices(step))
        torch.cuda.current_stream(self.device).wait_event(ready)
        x.record_stream(torch.cuda.current_stream(self.device))  # keep it until this step is done
        self._ahead = (step + 1, *self._copy(step + 1, self.indices(step + 1)))
        return x, y

    def _copy(self, step: int, idx: torch.Tensor):
        """Gather on the host into a pinned buffer, then copy asynchronously on the side stream."""
        k = step % 2
        if self._copied[k] is not None:
            self._copied[k].synchronize()  # the copy that last read this buffer has finished
        torch.index_select(self.images, 0, idx, out=self._staging[k])
        with torch.cuda.stream(self._stream):
            x = self._staging[k].to(self.device, non_blocking=True)
            ready = torch.cuda.Event()
            ready.record(self._stream)
        self._copied[k] = ready
        return x, ready
