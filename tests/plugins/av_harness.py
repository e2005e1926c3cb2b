"""Train an audio-visual method plugin directly for a few steps on sounding_shapes (no store,
no worker): the shared helper of the sound tests. Small on purpose: one CPU thread, 16 px
frames, 8 kHz sound, tiny towers."""
from __future__ import annotations

import functools

import torch

from engine import registry
from engine.data.av_batch import AVBatch, av_batch

DATA = {"image_size": 16, "frames": 8, "fps": 8.0, "sample_rate": 8000, "num_classes": 4}


@functools.lru_cache(maxsize=4)
def sounding_split(split: str = "train", train_size: int = 160, test_size: int = 80,
                   background: str = "textured") -> tuple[AVBatch, torch.Tensor]:
    """(AVBatch of the split, (N,) shape labels) of a small sounding_shapes."""
    registry.discover()
    ds = registry.create_dataset("sounding_shapes", {**DATA, "train_size": train_size, "test_size": test_size,
                                                     "background": background})
    s = ds.split(split)
    return av_batch(s.images, s.audio, s.sample_rate), torch.from_numpy(s.labels)


def build_av_method(method_id: str, params: dict | None = None, width: int = 8, seed: int = 0):
    registry.discover()
    torch.manual_seed(seed)
    backbone = registry.create_backbone("framewise", {"width": width}, DATA["image_size"])
    method = registry.create_method(method_id, backbone, {"audio_width": width, **(params or {})},
                                    DATA["image_size"], DATA["num_classes"])
    method.set_seed(seed)
    return method


def train_av(method_id: str, steps: int, params: dict | None = None, batch_size: int = 32, lr: float = 2e-3,
             seed: int = 0, train_size: int = 160, background: str = "textured"):
    """Train ``method_id`` for ``steps`` Adam steps; -> (method, history of float metrics per step)."""
    torch.set_num_threads(1)
    data, _ = sounding_split("train", train_size, background=background)
    method = build_av_method(method_id, params, seed=seed)
    method.train()
    opt = torch.optim.Adam(method.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    history = []
    for step in range(steps):
        out = method.training_step(data[torch.randint(len(data), (batch_size,), generator=order)])
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        method.on_step_end((step + 1) / steps)
        history.append({k: float(v.detach()) for k, v in out.items()})
    return method, history
