"""What a protocol evaluates: a run's backbone, loaded from its checkpoint, and the labeled
splits of the evaluation dataset (the run's own, or another resized to the run's input size).

Frozen features are computed once per (checkpoint, dataset, split, kind) and cached under
``<home>/cache/features/`` as ``.npz``; the key includes the checkpoint file's size and
modification time, so a run that trains on invalidates its cache.

A clip dataset is read as its ``ClipReadout`` says (clip_readout.py): frame level with an
image backbone turns the dataset into its frames; otherwise the samples stay clips,
``images`` gives (N, T, 3, S, S), ``features`` frame or clip features and ``labels`` the
chosen labelling (repeated per frame at frame level).
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine import registry
from engine.capabilities import SampleKind
from engine.data.cache_limit import enforce_limit, touch
from engine.data.dataset import DataError, resize_images
from engine.data.frames import FramesOf
from engine.data.npz_cache import load_or_build
from engine.data.tensors import images_to_tensor
from engine.data.validation_view import Validation, ValidationOf
from engine.evaluation.protocols.clip_readout import ClipReadout, FeatureLevel
from engine.params import ParamError
from engine.runs.paths import RunDir, RunPaths
from engine.ssl.augment import normalize, to_float
from engine.store.database import Store, StoreError
from engine.store.run_record import Run
from engine.training import checkpoint
from engine.training.device import pick_device


def checkpoint_file(run_dir: RunDir) -> tuple[Path, str]:
    """The file holding a run's backbone weights and the label stored with its evals."""
    for path in (run_dir.backbone, run_dir.last_checkpoint):
        if path.exists():
            return path, path.name
    raise StoreError(f"run {run_dir.run_id} has no checkpoint yet (neither artifacts/backbone.pt "
                     f"nor checkpoints/last.pt); train it first")


def load_backbone_state(path: Path) -> dict:
    """The backbone's state dict from ``backbone.pt`` ({"backbone": ...}) or from the
    ``model`` state of a training checkpoint (keys prefixed ``backbone.``)."""
    saved = checkpoint.load(path)
    if "backbone" in saved:
        return saved["backbone"]
    prefix = "backbone."
    state = {k[len(prefix):]: v for k, v in saved.get("model", {}).items() if k.startswith(prefix)}
    if not state:
        raise StoreError(f"{path} holds no backbone weights")
    return state


def pool_stage(fmap: torch.Tensor, grid: int, max_dims: int) -> torch.Tensor:
    """fmap: (N, C, H, W) -> (N, C * g * g) adaptively average-pooled to g x g, with g the
    largest size <= ``grid`` (and <= H) for which C * g * g <= ``max_dims`` (at least 1)."""
    c, h = fmap.shape[1], fmap.shape[2]
    g = max(1, min(grid, h))
    while g > 1 and c * g * g > max_dims:
        g -= 1
    return F.adaptive_avg_pool2d(fmap, g).flatten(1)


def input_size(dataset) -> int:
    """The side of the images a run was trained on: its dataset's ``image_size`` parameter,
    or, for a plugin without one, the side of the images of its first split (as the trainer
    sees them)."""
    if "image_size" in dataset.params:
        return int(dataset.params["image_size"])
    return int(dataset.split(dataset.splits[0]).images.shape[1])


class _Captured(Exception):
    def __init__(self, x):
        super().__init__("captured")
        self.x = x


class _InputRecorder(torch.nn.Module):
    """Stands in for the backbone inside ``method.embed`` to catch the tensor it is fed."""

    def __init__(self, num_features: int):
        super().__init__()
        self.num_features = num_features

    def forward_features(self, x):
        raise _Captured(x)

    stages = forward = forward_features


def method_input(config: dict, image_size: int, num_classes: int | None, device) -> callable:
    """The run's method's view of an image batch: uint8 or [0, 1] float (N, 3, H, W) -> the
    float tensor its ``embed`` feeds the backbone (ImageNet-normalised RGB by default; the
    lightness channel for colorization, per-image standardised for jigsaw, ...), so frozen
    features, stage maps and fine-tuning see inputs like those the backbone learned from."""
    from engine.ssl.method import MethodPlugin

    try:
        entry = registry.get("method", config["method"]["id"])
    except ParamError:  # the random baseline, or a method plugin no longer installed
        entry = None
    if entry is None or entry.cls.embed is MethodPlugin.embed:
        return lambda x: normalize(to_float(x))
    b = config["backbone"]
    backbone = registry.create_backbone(b["id"], b["params"], image_size)
    method = registry.create_method(entry.id, backbone, config["method"]["params"], image_size,
                                    num_classes).to(device).eval()
    recorder = _InputRecorder(backbone.num_features)

    def transform(x):
        real = method.backbone
        method.backbone = recorder
        try:
            method.embed(x)
        except _Captured as caught:
            return caught.x
        finally:
            method.backbone = real
        raise StoreError(f"method {entry.id}'s embed does not call backbone.forward_features; "
                         f"its features cannot be evaluated")
    return transform


class EvalContext:
    """One evaluation of one run: lazy data, backbone and cached features."""

    def __init__(self, home: Path, store: Store, run: Run, data: dict | None = None,
                 device: str = "auto", progress=None, readout: ClipReadout | None = None,
                 validation: Validation | None = None):
        self.home, self.store, self.run = Path(home), store, run
        self.run_id, self.config = run.id, run.config
        self.run_dir = store.run_dir(self.run_id)
        self.ckpt_path, self.checkpoint = checkpoint_file(self.run_dir)
        self.device = pick_device(device)
        self.progress = progress
        cache = RunPaths(self.home).cache
        own = registry.create_dataset(self.config["data"]["id"], self.config["data"]["params"], cache)
        self.image_size = input_size(own)
        if data:
            # the run's own dataset with some parameters changed keeps the others as the run had them
            base = self.config["data"]["params"] if data["id"] == self.config["data"]["id"] else {}
            self.data_config = {"id": data["id"], "params": registry.resolve_params(
                "dataset", data["id"], {**base, **(data.get("params") or {})})}
            self.dataset = registry.create_dataset(data["id"], self.data_config["params"], cache)
        else:
            self.data_config, self.dataset = self.config["data"], own
        self.dataset_id = self.data_config["id"]
        self.validation = validation
        if validation is not None:  # before the frames view: whole clips are held out
            self.dataset = ValidationOf(self.dataset, validation)
        self._frac = (0.0, 1.0)  # the share of the whole evaluation the current phase covers
        self._input = None
        self._read_clips(readout or ClipReadout())

    def _read_clips(self, readout: ClipReadout) -> None:
        """Set ``readout`` (None for image data), ``clip_backbone`` and ``clips`` (whether the
        samples stay clips); frame level with an image backbone reads the frames as images."""
        self.clip_backbone = registry.get("backbone", self.config["backbone"]["id"]).cls.input_kind == SampleKind.CLIP
        self.readout = None
        if SampleKind(self.dataset.sample_kind) != SampleKind.CLIP:
            self.clips = False
            return
        readout.check(self.dataset)
        self.readout = readout
        self.clips = self.clip_backbone or readout.level == FeatureLevel.CLIP
        if not self.clips:
            self.dataset = FramesOf(self.dataset)

    @property
    def frame_level(self) -> bool:
        """Clips read frame by frame by a clip backbone: one sample per frame."""
        return self.clips and self.readout.level == FeatureLevel.FRAME

    def require_images(self, what: str) -> None:
        """DataError when the samples are clips, which ``what`` cannot read."""
        if self.clips:
            raise DataError(f"{what} reads images; on the clips of {self.dataset_id} use knn, linear, svm, retrieval "
                            f"or embedding (or the frame level with an image backbone)")

    # --- progress -------------------------------------------------------------------------------
    def report(self, fraction: float, note: str = "") -> None:
        """``fraction`` of the current phase done; forwarded as ``progress(done, 1000, note)``."""
        if self.progress is not None:
            lo, hi = self._frac
            self.progress(int(1000 * (lo + (hi - lo) * min(max(fraction, 0.0), 1.0))), 1000, note)

    def phase(self, lo: float, hi: float) -> None:
        """Map the next ``report`` fractions into [lo, hi] of the whole evaluation."""
        self._frac = (lo, hi)

    # --- data -------------------------------------------------------------------------------------
    def labeled_split(self, name: str):
        """The ``Split`` ``name`` of the evaluation dataset; DataError when it lacks labels."""
        if name not in self.dataset.splits:
            raise DataError(f"dataset {self.dataset_id} has no {name!r} split, which this protocol needs")
        split = self.dataset.split(name)
        if split.labels is None:
            raise DataError(f"the {name!r} split of dataset {self.dataset_id} has no labels, which this protocol needs")
        return split

    def images(self, name: str) -> torch.Tensor:
        """(N, 3, S, S) uint8 images of split ``name`` at the run's input size S ((N, T, 3, S, S)
        when the samples are clips)."""
        images = self.labeled_split(name).images
        if images is None:
            raise DataError(f"dataset {self.dataset_id} holds sounds, not images; evaluate it with audio_probe")
        if images.ndim == 5:
            n, t = images.shape[:2]
            frames = resize_images(images.reshape(n * t, *images.shape[2:]), self.image_size)
            return images_to_tensor(frames.reshape(n, t, *frames.shape[1:]))
        return images_to_tensor(resize_images(images, self.image_size))

    def labels(self, name: str) -> torch.Tensor:
        """(N,) int64 labels of split ``name`` in the readout's labelling (per frame at frame level)."""
        split = self.labeled_split(name)
        target = self.readout.target if self.readout else "label"
        labels = split.labels if target == "label" else split.targets[target]
        if self.frame_level:
            labels = np.repeat(labels, split.images.shape[1])
        return torch.from_numpy(np.asarray(labels, np.int64))

    @property
    def num_classes(self) -> int:
        if self.readout and self.readout.target != "label":
            return len(self.dataset.target_classes[self.readout.target])
        split = self.labeled_split("train")
        return max(len(split.classes), int(split.labels.max()) + 1)

    # --- the backbone -----------------------------------------------------------------------------
    def backbone_input(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, H, W) uint8 or [0, 1] float on the device -> the backbone's input, made the
        way the run's method makes it (see ``method_input``)."""
        if self._input is None:
            n_cls = self.num_classes if self.dataset.has_labels else None
            self._input = method_input(self.config, self.image_size, n_cls, self.device)
        if x.ndim == 5 and not self.clip_backbone:  # an image method's input, frame by frame
            out = self._input(x.flatten(0, 1))
            return out.view(*x.shape[:2], *out.shape[1:])
        return self._input(x)

    def load_backbone(self) -> torch.nn.Module:
        """A fresh copy of the run's backbone with its trained weights, in eval mode on the device."""
        b = self.config["backbone"]
        backbone = registry.create_backbone(b["id"], b["params"], self.image_size)
        backbone.load_state_dict(load_backbone_state(self.ckpt_path))
        return backbone.to(self.device).eval()

    # --- frozen features --------------------------------------------------------------------------
    def _cache_path(self, split: str, kind: str) -> Path:
        st = self.ckpt_path.stat()
        held_out = self.validation.to_json() if self.validation else None  # its train is not the whole train
        key = json.dumps({"run": self.run_id, "ckpt": [str(self.ckpt_path), st.st_size, st.st_mtime_ns],
                          "data": self.data_config, "split": split, "validation": held_out,
                          "size": self.image_size, "kind": kind},
                         sort_keys=True, default=str)
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        return RunPaths(self.home).cache / "features" / f"{self.run_id}-{digest}-{split}.npz"

    def _cached_features(self, path: Path, compute) -> dict:
        """The arrays at ``path`` (computed and written first when needed), then the cache
        folder brought back under its size limit without evicting them."""
        arrays = load_or_build(path, compute)
        touch(path)
        enforce_limit(RunPaths(self.home).cache, keep=(path,))
        return arrays

    def pooled(self, backbone, x: torch.Tensor) -> torch.Tensor:
        """Backbone input (B, 3, S, S) -> (B, F); clips (B, T, 3, S, S) -> (B*T, F) per-frame
        features at frame level, (B, F) clip features at clip level."""
        if not self.clips:  # images; a clip backbone reads each as a one-frame clip
            return backbone.forward_features(x.unsqueeze(1) if self.clip_backbone else x)
        if not self.clip_backbone:  # clip level: an image backbone's frame features, averaged
            return backbone.forward_features(x.flatten(0, 1)).view(*x.shape[:2], -1).mean(dim=1)
        if self.frame_level:
            return backbone.frame_features(x).flatten(0, 1)
        return backbone.forward_features(x)

    @torch.no_grad()
    def _extract(self, split: str, encode, batch_size: int = 256) -> list[np.ndarray]:
        """Run ``encode`` (backbone input batch -> list of (B, D) tensors) over a split."""
        images = self.images(split)
        if images.ndim == 5:  # about as many frames per batch as images
            batch_size = max(1, batch_size // images.shape[1])
        outs: list[list[torch.Tensor]] = []
        for start in range(0, len(images), batch_size):
            x = self.backbone_input(images[start:start + batch_size].to(self.device))
            outs.append([f.float().cpu() for f in encode(x)])
            self.report(min(1.0, (start + batch_size) / len(images)), f"features of {split}")
        return [torch.cat(parts).numpy() for parts in zip(*outs)]

    def features(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, F) float32 pooled backbone features and (N,) labels of ``split`` (CPU)."""
        def compute():
            backbone = self.load_backbone()
            (feats,) = self._extract(split, lambda x: [self.pooled(backbone, x)])
            return {"features": feats}
        kind = f"pooled-{self.readout.level.value}" if self.clips else "pooled"
        arrays = self._cached_features(self._cache_path(split, kind), compute)
        return torch.from_numpy(arrays["features"]), self.labels(split)

    def stage_features(self, split: str, grid: int = 2, max_dims: int = 4096) -> list[torch.Tensor]:
        """One (N, D_s) tensor per backbone stage (stem, stage1..), pooled by ``pool_stage``."""
        self.require_images("the layer-wise probe")
        def compute():
            backbone = self.load_backbone()
            feats = self._extract(split, lambda x: [pool_stage(m, grid, max_dims) for m in backbone.stages(x)])
            return {f"stage{i}": f for i, f in enumerate(feats)}
        arrays = self._cached_features(self._cache_path(split, f"stages-{grid}-{max_dims}"), compute)
        return [torch.from_numpy(arrays[f"stage{i}"]) for i in range(len(arrays))]

    # --- artifacts ----------------------------------------------------------------------------------
    def save_artifact(self, kind: str, name: str, **arrays) -> str:
        """Write ``arrays`` to ``runs/<id>/artifacts/<kind>-<name>-<time>.npz`` and record it."""
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{int(time.time() * 1000) % 1000:03d}"
        path = self.run_dir.artifact(f"{kind}-{name}-{stamp}.npz")
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **arrays)
        self.store.add_artifact(self.run_id, kind, str(path))
        return str(path)
