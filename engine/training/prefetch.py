"""The order of a split's rows step by step, and a background thread that gathers the
coming steps' batches of a streamed split (engine.data.record_reader) while the current
step computes.

Order: a permutation per epoch that depends on (seed, epoch) only. Under torchrun the
global batch is ``batch_size x world``; rank r takes rows ``[r*B, (r+1)*B)`` of it.

On CUDA each batch is gathered into a pinned host buffer and copied with
``non_blocking=True`` on a side stream; the consumer's stream waits on the copy's event.
On the CPU the gathered batch is the tensor itself. Either way a batch is a fresh
``(B, 3, H, W)`` uint8 tensor (``(B, T, 3, H, W)`` for clips) that the thread never writes again, and at most ``depth``
batches wait, so memory is a few batches whatever the split's size.
"""
from __future__ import annotations

import atexit
import queue
import threading

import numpy as np
import torch

from engine.data.record_reader import RecordReader


class StepOrder:
    """Which rows of an ``n``-row split each training step takes."""

    def __init__(self, n: int, batch_size: int, seed: int, rank: int = 0, world: int = 1):
        self.n, self.batch_size, self.seed, self.rank, self.world = n, batch_size, seed, rank, world
        self.steps_per_epoch = n // (batch_size * world)
        self._epoch, self._perm = None, None

    def permutation(self, epoch: int) -> torch.Tensor:
        """(n,) int64: the epoch's order of all rows (one per epoch, cached)."""
        if self._epoch != epoch:
            g = torch.Generator().manual_seed(self.seed * 100003 + epoch)
            self._perm, self._epoch = torch.randperm(self.n, generator=g), epoch
        return self._perm

    def indices(self, step: int) -> torch.Tensor:
        """(batch_size,) int64 CPU indices of this rank's rows at ``step``."""
        epoch, i = divmod(step, self.steps_per_epoch)
        start = (i * self.world + self.rank) * self.batch_size
        return self.permutation(epoch)[start:start + self.batch_size]


class _Staging:
    """Pinned host buffers (B, H, W, 3) in a ring, each reused once its last copy finished."""

    def __init__(self, shape: tuple, device: torch.device, count: int = 3):
        self.buffers = [torch.empty(shape, dtype=torch.uint8).pin_memory() for _ in range(count)]
        self.copied: list = [None] * count
        self.stream = torch.cuda.Stream(device)
        self.device = device

    def to_device(self, step: int, reader: RecordReader, idx: np.ndarray):
        k = step % len(self.buffers)
        if self.copied[k] is not None:
            self.copied[k].synchronize()
        reader.gather(idx, self.buffers[k].numpy())
        with torch.cuda.stream(self.stream):
            x = self.buffers[k].to(self.device, non_blocking=True).movedim(-1, -3).contiguous()
            ready = torch.cuda.Event()
            ready.record(self.stream)
        self.copied[k] = ready
        return x, ready


def _produce(reader: RecordReader, order: StepOrder, staging: _Staging | None, step: int):
    """-> (step, x (B, 3, H, W) uint8 on the device, CUDA event or None)."""
    idx = order.indices(step).numpy()
    if staging is not None:
        return (step, *staging.to_device(step, reader, idx))
    hwc = reader.gather(idx, np.empty((len(idx), *reader.shape[1:]), np.uint8))
    return step, torch.from_numpy(hwc).movedim(-1, -3).contiguous(), None


def _loop(reader, order, staging, start: int, out: queue.Queue, stop: threading.Event) -> None:
    """The thread: batches from ``start`` on into ``out`` until ``stop``; an error is handed
    over as the item, to be raised in the training thread."""
    try:
        _feed(reader, order, staging, start, out, stop)
    finally:
        _running.pop(threading.current_thread(), None)


def _feed(reader, order, staging, step: int, out: queue.Queue, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            item = _produce(reader, order, staging, step)
        except BaseException as e:  # noqa: BLE001 -- raised again where the batch is taken
            item = e
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                break
            except queue.Full:
                continue
        if isinstance(item, BaseException):
            return
        step += 1


_running: dict[threading.Thread, threading.Event] = {}  # every prefetch thread alive, its stop flag


@atexit.register
def _stop_all() -> None:
    """Stop and join every prefetch thread, also those whose Prefetcher is gone, before the
    interpreter and torch's thread pools shut down under them (a thread still inside a torch
    op then aborts the process)."""
    for thread, stop in list(_running.items()):
        stop.set()
        thread.join()


class Prefetcher:
    """Batches of a streamed split, ``depth`` steps ahead, in step order from any start."""

    def __init__(self, reader: RecordReader, order: StepOrder, device: torch.device, depth: int = 2):
        self.reader, self.depth = reader, depth
        self.order = StepOrder(order.n, order.batch_size, order.seed, order.rank, order.world)  # the thread's own
        shape = (order.batch_size, *reader.shape[1:])
        self.staging = _Staging(shape, device, depth + 1) if device.type == "cuda" else None
        self.device = device
        self._next, self._thread, self._stop, self._queue = None, None, None, None

    def get(self, step: int) -> torch.Tensor:
        """x (B, 3, H, W) uint8 on the device for ``step``, ready on the current stream."""
        if self._next != step:
            self._start(step)
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._next = None
            raise item
        got, x, ready = item
        self._next = got + 1
        if ready is not None:
            torch.cuda.current_stream(self.device).wait_event(ready)
            x.record_stream(torch.cuda.current_stream(self.device))  # kept until this step is done
        return x

    def _start(self, step: int) -> None:
        self.close()
        self._stop, self._queue = threading.Event(), queue.Queue(maxsize=self.depth)
        self._thread = threading.Thread(target=_loop, name="pretext-prefetch", daemon=True,
                                        args=(self.reader, self.order, self.staging, step, self._queue, self._stop))
        _running[self._thread] = self._stop
        self._thread.start()
        self._next = step

    def close(self) -> None:
        """Stop the thread (it holds no reference to this object, so dropping it is enough too)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            _running.pop(self._thread, None)
            self._thread = None

    def __del__(self):
        if self._thread is not None:  # dropped without close(): stop the thread, joined at exit
            self._stop.set()
