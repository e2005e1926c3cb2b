"""Evaluation of what an audio-visual run learned, beyond the image and clip protocols its
visual backbone already goes through:

- ``audio_probe``: a linear probe on the frozen audio tower's features of each clip's sound,
  against the sound's class (``label``: on sounding_shapes the shape, whose timbre it is),
  fitted with the shared L-BFGS logistic regression (engine.evaluation.protocols.probe);
- ``cross_modal_recall``: frame -> sound and sound -> frame retrieval in the method's shared
  embedding space (AVID's projections, AVE-Net's embeddings): recall@k, the share of queries
  whose own clip's partner is among the k nearest by cosine similarity (as in Arandjelovic &
  Zisserman, 2018, and Morgado et al., 2021);
- ``localisation_maps``: the cosine similarity of the audio embedding with the visual
  feature map at every position (Arandjelovic & Zisserman, 2018, "Objects that Sound").

``evaluate_sound`` runs all three on a method and a dataset's train/test splits and stores
the results in ``evals`` (protocols ``audio_probe`` and ``cross_modal_retrieval``) when given
a store and a run.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from engine.data.av_batch import AVBatch, av_batch
from engine.data.dataset import Split
from engine.evaluation.protocols.probe import fit_logreg, standardize

KS = (1, 5, 10)


def cross_modal_recall(v: torch.Tensor, a: torch.Tensor, ks=KS) -> dict:
    """v, a: (N, D) visual and audio embeddings of the same N clips (row i of each is clip i)
    -> {"frame_to_sound_R@k", "sound_to_frame_R@k" for k in ks, "queries"}; chance is k / N."""
    sim = F.normalize(v.float(), dim=1) @ F.normalize(a.float(), dim=1).t()      # (N, N)
    own = torch.arange(len(v))
    out = {"queries": len(v)}
    for name, s in (("frame_to_sound", sim), ("sound_to_frame", sim.t())):
        rank = (s > s[own, own][:, None]).sum(dim=1)                            # 0 = own partner first
        for k in ks:
            out[f"{name}_R@{k}"] = float((rank < k).float().mean())
    return out


def localisation_maps(fmap: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
    """fmap: (N, C, h, w) visual feature maps, audio: (N, C) audio embeddings in the same space
    -> (N, h, w) cosine similarity at every position (Arandjelovic & Zisserman, 2018)."""
    return torch.einsum("nchw,nc->nhw", F.normalize(fmap.float(), dim=1), F.normalize(audio.float(), dim=1))


def visual_projection(method):
    """The method's visual projection into its shared space; DataError when it has none."""
    from engine.data.errors import DataError

    proj = getattr(method, "v_proj", None)
    if not getattr(method, "shared_space", False) or proj is None:
        raise DataError(f"localisation needs a method with a shared audio-visual space (avid, or avc with "
                        f"fusion=distance); {method.id} has none")
    return proj


def _projected_map(method, frames: torch.Tensor) -> torch.Tensor:
    """frames: (N, 3, H, W) uint8 -> (N, D, h, w): the clip backbone's last map of each frame
    (as a one-frame clip), the method's visual projection ``v_proj`` applied at every position
    (as AVOL-Net's 1x1 convolutions embed each position, Arandjelovic & Zisserman, 2018)."""
    from engine.data.errors import DataError
    from engine.ssl.augment import normalize, to_float

    proj = visual_projection(method)
    fmap = method.backbone.stages(normalize(to_float(frames))[:, None])[-1]      # (N, C, 1, h, w)
    if fmap.ndim != 5:
        raise DataError(f"localisation needs a clip backbone whose maps are (N, C, T, h, w), got {tuple(fmap.shape)}")
    fmap = fmap.mean(dim=2)
    n, c, h, w = fmap.shape
    width = getattr(proj[0] if isinstance(proj, torch.nn.Sequential) else proj, "in_features", c)
    if width != c:
        raise DataError(f"localisation cannot project the backbone's {c}-channel map with {method.id}'s "
                        f"{width}-wide visual projection")
    return proj(fmap.permute(0, 2, 3, 1).reshape(-1, c)).view(n, h, w, -1).permute(0, 3, 1, 2)


@torch.no_grad()
def sound_maps(method, batch: AVBatch) -> torch.Tensor:
    """(N, h, w) localisation maps of each clip's middle frame against its own sound: the cosine
    of the sound's shared embedding with the projected visual map at every position."""
    visual_projection(method)
    _, a = method.shared_embeddings(batch)
    middle = batch.frames[:, batch.frames.shape[1] // 2]
    return localisation_maps(_projected_map(method, middle), a)


@torch.no_grad()
def _encode(method, batch: AVBatch, batch_size: int = 64) -> dict[str, torch.Tensor]:
    """{"audio": (N, Fa), and "v", "a": (N, D) shared embeddings when the method has them}."""
    out: dict[str, list] = {"audio": [], "v": [], "a": []}
    shared = method.shared_embeddings if getattr(method, "shared_space", False) else None
    for i in range(0, len(batch), batch_size):
        b = batch[i:i + batch_size]
        out["audio"].append(method.embed_audio(b).cpu())
        if shared is not None:
            v, a = shared(b)
            out["v"].append(v.cpu())
            out["a"].append(a.cpu())
    return {k: torch.cat(v) for k, v in out.items() if v}


def audio_probe(train_f: torch.Tensor, train_y: torch.Tensor, test_f: torch.Tensor, test_y: torch.Tensor,
                weight_decay: float = 1e-4) -> float:
    """Test accuracy of a logistic regression on frozen audio features. f: (N, F), y: (N,)."""
    tr, te = standardize(train_f.float(), test_f.float())
    clf = fit_logreg(tr, train_y, int(max(train_y.max(), test_y.max())) + 1, weight_decay)
    return float((clf(te).argmax(1) == test_y).float().mean())


def _batch_of(split: Split) -> AVBatch:
    return av_batch(split.images, split.audio, split.sample_rate)


def evaluate_sound(method, train: Split, test: Split, device="cpu", store=None, run_id: str | None = None,
                   dataset_id: str = "") -> dict:
    """Audio probe on ``label`` and cross-modal recall@{1,5,10} on ``test`` for a trained
    audio-visual method; -> {"audio_probe": {...}, "cross_modal_retrieval": {...} (when the
    method has shared embeddings)}, each also stored in ``evals`` when ``store`` is given."""
    method = method.to(device).eval()
    tr, te = _encode(method, _batch_of(train).to(device)), _encode(method, _batch_of(test).to(device))
    ytr, yte = torch.from_numpy(np.asarray(train.labels)), torch.from_numpy(np.asarray(test.labels))
    results = {"audio_probe": {"accuracy": audio_probe(tr["audio"], ytr, te["audio"], yte),
                               "train": len(ytr), "test": len(yte)}}
    if "v" in te:
        results["cross_modal_retrieval"] = cross_modal_recall(te["v"], te["a"])
    if store is not None and run_id is not None:
        for protocol, res in results.items():
            store.add_eval(run_id, protocol, dataset_id, {"split": "test"}, res)
    return results
