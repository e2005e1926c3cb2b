"""System metrics logged with a run's steps, as W&B and MLflow's system tabs show them:
``cpu_percent`` (this process, all its threads; 100 = one core busy), ``rss_mb`` (resident
memory) and, on a CUDA device, ``gpu_util`` (% of time a kernel ran, NVML) and
``gpu_mem_mb`` (memory used on the device, NVML; torch's allocator figure without NVML).

Sampled at most every ``interval`` seconds, on the step rows the trainer already reads, so it
costs no host sync; the first call only primes psutil's CPU counter (it measures since the
previous call) and returns nothing. psutil and nvidia-ml-py are optional: without them the
keys are simply not logged.
"""
from __future__ import annotations

import time

import torch

KEYS = ("cpu_percent", "rss_mb", "gpu_util", "gpu_mem_mb")


def _nvml_errors() -> tuple[type[BaseException], ...]:
    try:
        import pynvml

        return (pynvml.NVMLError, OSError, RuntimeError, AttributeError)
    except ImportError:
        return (OSError, RuntimeError, AttributeError)


def _nvml_handle(device: torch.device):
    """The NVML handle of ``device`` by PCI bus id (CUDA and NVML may number GPUs apart)."""
    try:
        import pynvml
    except ImportError:
        return None, None
    try:
        pynvml.nvmlInit()
        props = torch.cuda.get_device_properties(device)
        bus = getattr(props, "pci_bus_id", None)
        if bus is not None:
            pci = f"{getattr(props, 'pci_domain_id', 0):08x}:{bus:02x}:{getattr(props, 'pci_device_id', 0):02x}.0"
            return pynvml, pynvml.nvmlDeviceGetHandleByPciBusId(pci.encode())
        return pynvml, pynvml.nvmlDeviceGetHandleByIndex(device.index or 0)
    except _nvml_errors():  # no NVML library or driver, an old binding: GPU figures from torch only
        return None, None


class SystemSampler:
    def __init__(self, device: torch.device, interval: float = 5.0, clock=time.monotonic):
        self.device, self.interval, self.clock = torch.device(device), interval, clock
        self._next = None
        try:
            import psutil

            self._proc = psutil.Process()
        except ImportError:
            self._proc = None
        self._nvml, self._gpu = _nvml_handle(self.device) if self.device.type == "cuda" else (None, None)

    def sample(self) -> dict[str, float]:
        """The figures now, or {} when the last sample is less than ``interval`` old."""
        now = self.clock()
        if self._next is None:  # prime: psutil's cpu_percent measures since its previous call
            self._next = now + self.interval
            if self._proc is not None:
                self._proc.cpu_percent(None)
            return {}
        if now < self._next:
            return {}
        self._next = now + self.interval
        out: dict[str, float] = {}
        if self._proc is not None:
            out["cpu_percent"] = float(self._proc.cpu_percent(None))
            out["rss_mb"] = self._proc.memory_info().rss / 2**20
        if self.device.type == "cuda":
            out.update(self._gpu_figures())
        return out

    def _gpu_figures(self) -> dict[str, float]:
        if self._gpu is not None:
            try:
                util = self._nvml.nvmlDeviceGetUtilizationRates(self._gpu)
                mem = self._nvml.nvmlDeviceGetMemoryInfo(self._gpu)
                return {"gpu_util": float(util.gpu), "gpu_mem_mb": mem.used / 2**20}
            except _nvml_errors():  # the GPU went away or fell off the bus: torch's figure
                self._gpu = None
        return {"gpu_mem_mb": torch.cuda.memory_reserved(self.device) / 2**20}
