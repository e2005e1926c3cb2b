"""Precision: ``auto`` picks bf16 on CPUs that compute it natively and fp32 where it would be
emulated; a bf16 run keeps fp32 weights and state and learns like an fp32 one."""
from __future__ import annotations

import statistics

import pytest
import torch

from engine.training import precision
from engine.training.config import build_config
from engine.training.precision import autocast_dtype, cpu_flags, cpu_has_native_bf16
from engine.training.trainer import Trainer

CPU = torch.device("cpu")
SETS = {"train_size": "256", "test_size": "16", "image_size": "16", "width": "8", "knn_every": "0"}


def _pretend(monkeypatch, capability: str, flags: set[str]) -> None:
    monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)
    monkeypatch.setattr(precision, "cpu_flags", lambda: flags)


def test_auto_is_bf16_on_a_cpu_with_native_bf16(monkeypatch):
    for flags in ({"avx512f", "avx512_bf16"}, {"avx512f", "amx_tile", "amx_bf16"}):
        _pretend(monkeypatch, "AVX512", flags)
        assert cpu_has_native_bf16()
        assert autocast_dtype("auto", CPU) == torch.bfloat16


def test_auto_is_fp32_where_bf16_would_be_emulated(monkeypatch):
    _pretend(monkeypatch, "AVX2", {"avx2", "fma"})  # no bf16 instructions
    assert not cpu_has_native_bf16()
    assert autocast_dtype("auto", CPU) is None
    _pretend(monkeypatch, "AVX2", {"avx2", "avx512_bf16"})  # torch built/limited to AVX2 kernels
    assert autocast_dtype("auto", CPU) is None
    assert autocast_dtype("bf16", CPU) == torch.bfloat16, "an explicit bf16 is honoured"
    assert autocast_dtype("fp32", CPU) is None and autocast_dtype("fp16", CPU) is None


def test_cpu_flags_reads_x86_and_arm_cpuinfo(tmp_path):
    x86 = tmp_path / "x86"
    x86.write_text("processor\t: 0\nflags\t\t: fpu avx512f avx512_bf16 amx_bf16\n\nprocessor\t: 1\n")
    arm = tmp_path / "arm"
    arm.write_text("processor\t: 0\nFeatures\t: fp asimd sve bf16\n")
    assert {"avx512_bf16", "amx_bf16"} <= cpu_flags(x86)
    assert "bf16" in cpu_flags(arm)
    assert cpu_flags(tmp_path / "missing") == set()


def _trainer(tmp_path, prec: str, method: str = "simclr") -> Trainer:
    cfg = build_config("shapes", method, "convnet", sets=SETS, train={
        "epochs": 4, "batch_size": 32, "device": "cpu", "precision": prec, "warmup_epochs": 0})
    return Trainer(cfg, tmp_path / prec, tmp_path / "cache")


def test_bf16_computes_in_bf16_and_keeps_weights_and_state_fp32(tmp_path):
    trainer = _trainer(tmp_path, "bf16")
    seen = []
    trainer.method.backbone.stem[0].register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    for _ in range(2):
        loss = trainer.train_step(*trainer._batch(trainer.step))["loss"]
        assert torch.isfinite(torch.as_tensor(loss))
    assert seen and all(d == torch.bfloat16 for d in seen), "the convolutions ran in bf16"
    for name, t in [*trainer.method.named_parameters(), *trainer.method.named_buffers()]:
        if t.is_floating_point():
            assert t.dtype == torch.float32, name  # includes BatchNorm's running statistics
    for state in trainer.optimizer.state.values():
        for key, t in state.items():
            if torch.is_tensor(t) and t.is_floating_point():
                assert t.dtype == torch.float32, key


def _learn(trainer: Trainer, steps: int) -> tuple[float, float, float]:
    """(first loss, mean loss and contrastive_acc of the last 5 steps) over ``steps`` steps."""
    rows = [{k: float(v) for k, v in trainer.train_step(*trainer._batch(trainer.step)).items()}
            for _ in range(steps)]
    tail = rows[-5:]
    return (rows[0]["loss"], statistics.mean(r["loss"] for r in tail),
            statistics.mean(r["contrastive_acc"] for r in tail))


def test_a_bf16_simclr_run_learns_like_an_fp32_one(tmp_path):
    steps, chance = 30, 1 / 63  # 2 x 32 views: each picks its positive among 63 others
    first32, last32, acc32 = _learn(_trainer(tmp_path, "fp32"), steps)
    first16, last16, acc16 = _learn(_trainer(tmp_path, "bf16"), steps)
    assert first16 == pytest.approx(first32, rel=0.02), "same model, same batch, bf16 rounding only"
    for first, last, acc in ((first32, last32, acc32), (first16, last16, acc16)):
        assert last < first - 0.3, "the loss went down"
        assert acc > 5 * chance
    assert last16 == pytest.approx(last32, abs=0.15), "bf16 ends where fp32 does"
