"""Source of a test-only plugin that tests/faults copies into ``<home>/plugins/``, so the
faults reach real worker processes through the ordinary plugin path (DESIGN.md, "Plugins").

Methods (SimCLR underneath, so the numbers are real):
  fault_slow  sleeps ``step_sleep`` seconds per step (time to kill a worker mid-epoch);
  fault_nan   returns a NaN (or Inf) loss from its ``nan_step``-th step on (divergence);
  fault_oom   raises torch.OutOfMemoryError at its ``oom_step``-th step (CUDA OOM, simulated).
With PRETEXT_FAULT_KILL_IN_CHECKPOINT=N in the environment, the process SIGKILLs itself at
its N-th checkpoint write, after the temp file is written and before the rename.
"""
import os
import signal
import time

import torch

from engine.params import Param
from engine.registry import register_method
from engine.training import checkpoint
from plugins.methods.simclr import SimCLR


class _Fault(SimCLR):
    title = "Fault injection (tests only)"
    summary = "SimCLR with an injected fault, for tests/faults."
    citation = "none (test plugin)"

    def step_count(self) -> int:
        self.calls = getattr(self, "calls", 0) + 1
        return self.calls


@register_method
class SlowSimCLR(_Fault):
    id = "fault_slow"
    params = [*SimCLR.params, Param("step_sleep", "float", 0.0, "seconds slept per step", 0.0, 10.0)]

    def training_step(self, x, y=None):
        time.sleep(self.hparams["step_sleep"])
        return super().training_step(x, y)


@register_method
class NanSimCLR(_Fault):
    id = "fault_nan"
    params = [*SimCLR.params, Param("nan_step", "int", 6, "first step with a non-finite loss", 1, 10**6),
              Param("bad_value", "choice", "nan", "what the loss becomes", choices=("nan", "inf"))]

    def training_step(self, x, y=None):
        out = super().training_step(x, y)
        if self.step_count() >= self.hparams["nan_step"]:
            out["loss"] = out["loss"] + float(self.hparams["bad_value"])
        return out


@register_method
class OomSimCLR(_Fault):
    id = "fault_oom"
    params = [*SimCLR.params, Param("oom_step", "int", 2, "step that runs out of memory", 1, 10**6)]

    def training_step(self, x, y=None):
        if self.step_count() >= self.hparams["oom_step"]:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        return super().training_step(x, y)


class _DiesBeforeRename:
    """Stands in for ``os`` inside engine.training.checkpoint: the N-th ``replace`` kills the process."""

    def __init__(self, n: int):
        self.n, self.seen = n, 0

    def __getattr__(self, name):
        return getattr(os, name)

    def replace(self, src, dst):
        self.seen += 1
        if self.seen == self.n:
            os.kill(os.getpid(), signal.SIGKILL)
        return os.replace(src, dst)


if os.environ.get("PRETEXT_FAULT_KILL_IN_CHECKPOINT"):
    checkpoint.os = _DiesBeforeRename(int(os.environ["PRETEXT_FAULT_KILL_IN_CHECKPOINT"]))
