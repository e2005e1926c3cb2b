"""Every hooks class the trainer is given implements the whole TrainerHooks protocol, and
DistributedHooks passes flush() on from rank 0 only."""
import torch

from engine.runs.worker import WorkerHooks
from engine.training.distributed import DistInfo, DistributedHooks
from engine.training.hooks import NullHooks, TrainerHooks


class Spy(NullHooks):
    def __init__(self):
        self.flushes = 0

    def flush(self):
        self.flushes += 1


def test_every_hooks_class_is_a_trainer_hooks():
    assert isinstance(NullHooks(), TrainerHooks)
    assert isinstance(WorkerHooks(log=None), TrainerHooks)
    assert isinstance(DistributedHooks(NullHooks(), DistInfo(0, 2, 0), torch.device("cpu")), TrainerHooks)


def test_a_class_without_flush_is_not_one():
    class NoFlush:
        def on_step(self, step, total, epoch, metrics): ...
        def on_epoch(self, epoch, metrics): ...
        def control(self): return ""
        def text(self, message): ...

    assert not isinstance(NoFlush(), TrainerHooks)


def test_distributed_hooks_flush_on_rank_zero_only():
    main, other = Spy(), Spy()
    DistributedHooks(main, DistInfo(0, 2, 0), torch.device("cpu")).flush()
    DistributedHooks(other, DistInfo(1, 2, 1), torch.device("cpu")).flush()
    assert (main.flushes, other.flushes) == (1, 0)
