"""One device choice for training and evaluation, with one error when CUDA is missing."""
import pytest
import torch

from engine.params import ParamError
from engine.training.device import NO_CUDA, pick_device


def test_cpu_and_auto_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert pick_device("cpu") == pick_device("auto") == torch.device("cpu")
    with pytest.raises(ParamError, match="no CUDA GPU"):
        pick_device("cuda")


def test_cuda_is_refused_before_a_run_exists(home, monkeypatch, capsys):
    from engine.cli.commands import main
    from engine.store.database import Store

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "--device", "cuda", "--epochs", "1", "--home", str(home)]) == 2
    assert capsys.readouterr().err.strip() == f"error: {NO_CUDA}"
    assert Store(home).list_runs() == []
