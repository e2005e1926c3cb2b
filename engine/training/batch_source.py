"""Where the pre-training split lives and how each step's batch reaches the device.

The split comes as the records of the dataset cache, ``(N, H, W, 3)`` uint8 numpy (a
read-only memory map). On a GPU it is uploaded, chunk by chunk, into GPU memory when it
fits in ``gpu_data_fraction`` of the free memory, so a batch is one index-gather with no
host traffic. Otherwise it is streamed: a background thread gathers each coming batch from
the cache file into a (pinned, on CUDA) buffer and copies it asynchronously, so reading
overlaps compute and host memory stays a few batches whatever the split's size
(engine.training.prefetch).

A split given as one ``(N, 3, H, W)`` uint8 tensor is held as it is (in pinned host memory
with copies one step ahead on a side CUDA stream when it does not fit on the GPU): what
callers without a cache (benchmarks, tests) and the in-RAM baseline use.

Order: a permutation per epoch that depends on (seed, epoch) only. Under torchrun the
global batch is ``batch_size x world``; rank r takes rows ``[r*B, (r+1)*B)`` of it, so the
union of the ranks' batches is exactly the one-process batch of size ``B x world``.
"""
from __future__ import annotations

import numpy as np
import torch

from engine.data.record_reader import RecordReader
from engine.training.prefetch import Prefetcher, StepOrder

_UPLOAD_ROWS_BYTES = 64 << 20  # records uploaded to the GPU at a time


def fits_on_device(nbytes: int, device: torch.device, fraction: float) -> bool:
    """True on the CPU; on CUDA, whether ``nbytes`` is at most ``fraction`` of free memory."""
    if device.type != "cuda":
        return True
    free, _total = torch.cuda.mem_get_info(device)
    return nbytes <= fraction * free


def upload(records: np.ndarray, device: torch.device) -> torch.Tensor:
    """(N, H, W, 3) uint8 numpy -> (N, 3, H, W) uint8 on ``device`` ((N, T, H, W, 3) clips ->
    (N, T, 3, H, W)), a chunk at a time, so host memory holds one chunk, not the split."""
    n, shape = len(records), records.shape
    out = torch.empty((n, *shape[1:-3], shape[-1], shape[-3], shape[-2]), dtype=torch.uint8, device=device)
    step = max(1, _UPLOAD_ROWS_BYTES // max(1, int(np.prod(records.shape[1:]))))
    for i in range(0, n, step):
        chunk = torch.from_numpy(np.array(records[i:i + step]))
        out[i:i + step] = chunk.to(device).movedim(-1, -3)
    return out


class BatchSource:
    def __init__(self, images: torch.Tensor | np.ndarray, labels: torch.Tensor | None, device: torch.device,
                 batch_size: int, seed: int, rank: int = 0, world: int = 1,
                 gpu_data_fraction: float = 0.5):
        """images: (N, H, W, 3) uint8 numpy records (streamed unless they fit on the GPU), or
        (N, 3, H, W) uint8 tensor on the CPU (held as it is); labels: (N,) int64 or None."""
        self.device, self.batch_size, self.seed = device, batch_size, seed
        self.rank, self.world = rank, world
        self.order = StepOrder(len(images), batch_size, seed, rank, world)
        self.steps_per_epoch = self.order.steps_per_epoch
        nbytes = images.nbytes if isinstance(images, np.ndarray) else images.numel() * images.element_size()
        self.on_device = fits_on_device(nbytes, device, gpu_data_fraction)
        self.labels = labels.to(device) if labels is not None else None  # (N,) int64: always small
        self.streamed = isinstance(images, np.ndarray) and not (self.on_device and device.type == "cuda")
        self._perm_epoch, self._perm = None, None
        self._ahead = None  # (step, x on device, ready event) prefetched on the side stream
        if self.streamed:
            self.images = None  # read from the cache file batch by batch
            self._prefetch = Prefetcher(RecordReader(images), self.order, device)
            return
        if isinstance(images, np.ndarray):
            images = upload(images, device)
        if self.on_device:
            self.images = images.to(device)
        else:  # pinned host memory makes the host-to-device copy asynchronous
            self.images = images.pin_memory()
            shape = (batch_size, *images.shape[1:])
            self._staging = [torch.empty(shape, dtype=images.dtype).pin_memory() for _ in range(2)]
            self._copied = [None, None]  # CUDA events: when each staging buffer may be refilled
            self._stream = torch.cuda.Stream(device)

    @property
    def placement(self) -> str:
        """cpu | gpu (resident) | pinned (prefetched copies through pinned buffers)."""
        if self.device.type != "cuda":
            return "cpu"
        return "pinned" if self.streamed or not self.on_device else "gpu"

    def indices(self, step: int, on_device: bool = False) -> torch.Tensor:
        """(batch_size,) int64 indices of this rank's images at ``step`` (CPU, or the device)."""
        if not on_device:
            return self.order.indices(step)
        epoch, i = divmod(step, self.steps_per_epoch)
        if self._perm_epoch != epoch:  # one copy per epoch, not per step
            self._perm_device, self._perm_epoch = self.order.permutation(epoch).to(self.device), epoch
        start = (i * self.world + self.rank) * self.batch_size
        return self._perm_device[start:start + self.batch_size]

    def batch(self, step: int):
        """(x (B, 3, H, W) uint8 on the device (clips: (B, T, 3, H, W)), y (B,) or None) for
        training step ``step``."""
        idx = self.indices(step, on_device=True)
        y = self.labels[idx] if self.labels is not None else None
        if self.streamed:
            return self._prefetch.get(step), y
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
