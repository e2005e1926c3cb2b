"""Which autocast dtype a ``precision`` setting (auto | fp32 | bf16 | fp16) means on a device.

On a CPU, bf16 pays only where the hardware computes it natively (AVX-512 BF16 or AMX on
x86, the BF16 extension on Arm): there oneDNN's bf16 convolutions and matmuls run about
1.5x the fp32 ones. Elsewhere bf16 is emulated and slower than fp32, so ``auto`` keeps fp32.
Autocast changes only the compute dtype of eligible ops: parameters, BatchNorm buffers and
optimizer state stay fp32, so no loss scaling is needed for bf16.
"""
from __future__ import annotations

from pathlib import Path

import torch

# /proc/cpuinfo flags of native bf16 arithmetic: x86 (AVX-512 BF16, AMX) and Arm (FEAT_BF16)
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
# torch.backends.cpu.get_cpu_capability() answers whose kernels can use those instructions
BF16_CAPABILITIES = frozenset({"AVX512", "SVE256"})


def cpu_flags(path: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (x86 ``flags``, Arm ``Features``); empty where unreadable."""
    try:
        text = path.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return set(value.split())
    return set()


def cpu_has_native_bf16() -> bool:
    """True when this CPU computes bf16 in hardware and torch's CPU kernels are built to use it."""
    return (torch.backends.cpu.get_cpu_capability() in BF16_CAPABILITIES
            and bool(cpu_flags() & NATIVE_BF16_FLAGS))


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The dtype to autocast to, or None for plain fp32.

    CUDA: auto is bf16 where the GPU supports it, else fp16. CPU: auto is bf16 on native-bf16
    CPUs, else fp32; bf16 is honoured even where emulated (slow, but it is what was asked);
    fp16 falls back to fp32 (CPU fp16 autocast is emulated on every CPU this targets)."""
    if precision == "fp32" or device.type not in ("cuda", "cpu"):
        return None
    if device.type == "cpu":
        if precision == "bf16" or (precision == "auto" and cpu_has_native_bf16()):
            return torch.bfloat16
        return None
    if precision == "fp16":
        return torch.float16
    if precision == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16
