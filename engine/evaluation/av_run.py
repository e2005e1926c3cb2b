"""An audio-visual run's whole method for the sound protocols: the visual backbone alone
(what the image and clip protocols load) lacks the audio tower and the projections to the
shared space, so ``audio_probe`` and ``localisation`` rebuild the run's method and load its
training checkpoint (``checkpoints/last.pt``, the ``model`` state).

``sound_features`` encodes waveforms with the audio tower (Arandjelovic & Zisserman, 2017:
the audio subnetwork's features, read out by a linear classifier).
"""
from __future__ import annotations

import numpy as np
import torch

from engine import registry
from engine.data.errors import DataError
from engine.params import ParamError
from engine.ssl.av_method import AudioVisualMethod
from engine.store.database import StoreError
from engine.training import checkpoint


def load_av_method(ctx, what: str) -> AudioVisualMethod:
    """The run's audio-visual method with its trained weights, in eval mode on ``ctx.device``;
    one sentence (DataError / StoreError) when the run has no audio tower or no checkpoint."""
    method_id = ctx.config["method"]["id"]
    try:
        entry = registry.get("method", method_id)
    except ParamError:
        entry = None
    if entry is None or not issubclass(entry.cls, AudioVisualMethod):
        raise DataError(f"{what} needs an audio-visual run (avc, avid, av_sync, ambient_sound); run "
                        f"{ctx.run_id}'s method {method_id} has no audio tower")
    path = ctx.run_dir.last_checkpoint
    if not path.exists():
        raise StoreError(f"run {ctx.run_id} has no training checkpoint (checkpoints/last.pt) holding its "
                         f"audio tower; {what} cannot run")
    b = ctx.config["backbone"]
    backbone = registry.create_backbone(b["id"], b["params"], ctx.image_size)
    method = registry.create_method(method_id, backbone, ctx.config["method"]["params"], ctx.image_size, None)
    state = checkpoint.load(path).get("model", {})
    try:
        method.load_state_dict(state)
    except RuntimeError as e:
        raise StoreError(f"run {ctx.run_id}'s checkpoint does not fit its method {method_id} "
                         f"({str(e).splitlines()[0]})") from None
    return method.to(ctx.device).eval()


def sound_split(ctx, name: str, what: str):
    """The labeled ``Split`` ``name`` of the evaluation data, which must hold sound."""
    split = ctx.labeled_split(name)
    if split.audio is None:
        raise DataError(f"{what} reads sound; dataset {ctx.dataset_id} has none (use a clip+audio dataset "
                        f"such as sounding_shapes, or sound_folder)")
    return split


@torch.no_grad()
def sound_features(method: AudioVisualMethod, audio: np.ndarray, sample_rate: int, device,
                   batch_size: int = 64, report=None) -> torch.Tensor:
    """audio: (N, L) int16 waveforms at ``sample_rate`` -> (N, F) float32 audio-tower features (CPU)."""
    out = []
    for i in range(0, len(audio), batch_size):
        wave = torch.from_numpy(np.array(audio[i:i + batch_size], np.int16)).to(device).float() / 32767.0
        out.append(method.audio_features(wave, sample_rate).float().cpu())
        if report:
            report(min(1.0, (i + batch_size) / len(audio)), "audio features")
    return torch.cat(out) if out else torch.zeros(0, method.audio.num_features)
