"""The torch device a ``device`` parameter (auto | cpu | cuda) means on this machine; one
function for training, evaluation and the CLI's checks, with one error."""
from __future__ import annotations

import torch

from engine.params import ParamError

NO_CUDA = "device cuda was asked for but this machine has no CUDA GPU; choose device cpu or auto"


def pick_device(choice: str = "auto") -> torch.device:
    """``auto`` is CUDA when there is a GPU, else the CPU. ParamError (a bad setting for this
    machine, refused before a run exists) when CUDA is asked for and absent."""
    if choice == "cuda" and not torch.cuda.is_available():
        raise ParamError(NO_CUDA)
    if choice == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")
