"""The protocols' artifact files, written and read in one place: the ``embedding`` map's
points, the ``retrieval`` protocol's neighbours and the ``localisation`` heat maps (with
their frames), as typed arrays, and both joined with
the images they stand for, which is what the workbench draws.

The dataclasses are the file format: the protocols save ``fields()`` of one as the arrays
of the ``.npz`` (``ctx.save_artifact(kind, name, **points.arrays())``) and the readers
build one back. A missing or damaged file raises ``ArtifactError`` with one sentence.
On clip data the indices are frames (frame level: query frame -> top-k frames) or clips
(clip level, drawn by their middle frame), as the eval row's ``level`` says.
"""
from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass, fields
from pathlib import Path
from typing import ClassVar

import numpy as np

from engine.runs.paths import RunPaths


class ArtifactError(RuntimeError):
    """An artifact that cannot be read (missing, damaged, not matching its data); one sentence."""


class _ArrayFile:
    kind: ClassVar[str] = ""  # the protocol that writes it

    def arrays(self) -> dict[str, np.ndarray]:
        """The fields as the arrays of the ``.npz`` (not copied, unlike ``asdict``)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class EmbeddingPoints(_ArrayFile):
    """The ``embedding`` artifact: ``xy`` (N, 2) float32 map positions, ``labels`` (N,) and
    ``indices`` (N,), the test-split images the points stand for."""
    kind: ClassVar[str] = "embedding"
    xy: np.ndarray
    labels: np.ndarray
    indices: np.ndarray


@dataclass(frozen=True)
class RetrievalHits(_ArrayFile):
    """The ``retrieval`` artifact: ``queries`` (Q,) test indices, ``neighbours`` (Q, K) train
    indices best first, their cosine ``similarities`` (Q, K), and the labels of both."""
    kind: ClassVar[str] = "retrieval"
    queries: np.ndarray
    neighbours: np.ndarray
    similarities: np.ndarray
    query_labels: np.ndarray
    neighbour_labels: np.ndarray


@dataclass(frozen=True)
class LocalisationMaps(_ArrayFile):
    """The ``localisation`` artifact: for Q held-out clips, ``frames`` (Q, H, W, 3) uint8 (the
    middle frame each map is of), ``maps`` (Q, h, w) float32 cosine similarity of the clip's
    sound embedding with the frame's feature map at every position (Arandjelovic & Zisserman,
    2018), ``indices`` (Q,) test clips and their ``labels`` (Q,)."""
    kind: ClassVar[str] = "localisation"
    frames: np.ndarray
    maps: np.ndarray
    indices: np.ndarray
    labels: np.ndarray


def _read(evaluation: dict, cls):
    """The artifact of an eval row (``results.path``) as a ``cls``; ArtifactError when it
    cannot be read."""
    kind = cls.kind
    path = (evaluation.get("results") or {}).get("path")
    if not path:
        raise ArtifactError(f"evaluation {evaluation.get('id', '?')} has no {kind} artifact; evaluate again")
    if not Path(path).exists():
        raise ArtifactError(f"the {kind} artifact {path} is missing (deleted or moved); evaluate again")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {f.name: z[f.name] for f in fields(cls)}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise ArtifactError(f"the {kind} artifact {path} cannot be read ({e}); evaluate again") from None
    lengths = {len(a) for a in arrays.values()}
    if len(lengths) != 1:
        raise ArtifactError(f"the {kind} artifact {path} holds arrays of different lengths; evaluate again")
    return cls(**arrays)


def read_embedding(evaluation: dict) -> EmbeddingPoints:
    """The points of an ``embedding`` eval row."""
    points = _read(evaluation, EmbeddingPoints)
    if points.xy.ndim != 2 or points.xy.shape[1] != 2:
        raise ArtifactError(f"the embedding artifact of evaluation {evaluation.get('id', '?')} is not a 2-D map")
    return points


def read_retrieval(evaluation: dict) -> RetrievalHits:
    """The neighbours of a ``retrieval`` eval row."""
    return _read(evaluation, RetrievalHits)


def read_localisation(evaluation: dict) -> LocalisationMaps:
    """The maps of a ``localisation`` eval row, with the frames they are drawn over."""
    maps = _read(evaluation, LocalisationMaps)
    if maps.frames.ndim != 4 or maps.frames.shape[-1] != 3 or maps.maps.ndim != 3:
        raise ArtifactError(f"the localisation artifact of evaluation {evaluation.get('id', '?')} does not hold "
                            "frames with their maps")
    return maps


# --- with their images ----------------------------------------------------------------------
@dataclass(frozen=True)
class MapImages:
    """A map and its points' test images ((N, H, W, 3) uint8, None when the eval row does
    not say which data it used) with the class names."""
    xy: np.ndarray
    labels: np.ndarray
    images: np.ndarray | None
    classes: list[str]


@dataclass(frozen=True)
class RunNeighbours:
    """One run's block of the neighbour grid: (Q, K, H, W, 3) images, (Q, K) same-class."""
    label: str
    images: np.ndarray
    same_class: np.ndarray


@dataclass(frozen=True)
class NeighbourImages:
    """Query images (Q, H, W, 3), their class names, and each run's neighbours of them."""
    queries: np.ndarray
    query_classes: list[str]
    runs: list[RunNeighbours]


class _Splits:
    """The evaluation datasets' splits, built once per data config."""

    def __init__(self, home: Path):
        from engine import registry

        registry.discover(home)
        self.home, self.registry, self.built = Path(home), registry, {}

    def get(self, evaluation: dict, name: str):
        data = evaluation["params"]["data"]
        key = json.dumps([data, name], sort_keys=True, default=str)
        if key not in self.built:
            dataset = self.registry.create_dataset(data["id"], data["params"], RunPaths(self.home).cache)
            self.built[key] = drawable(dataset.split(name), evaluation["params"].get("level"))
        return self.built[key]


def drawable(split, level: str | None):
    """The images an artifact's indices point into: a clip split's frames when it was read
    frame by frame, each clip's middle frame when clip by clip; an image split as it is."""
    from engine.data.dataset import Split
    from engine.data.frames import frames_view

    if split.images.ndim == 4:
        return split
    if level == "clip":
        return Split(split.images[:, split.images.shape[1] // 2], split.labels, list(split.classes), split.skipped)
    return frames_view(split)


def _take(images: np.ndarray, index: np.ndarray, what: str) -> np.ndarray:
    if len(index) and (index.min() < 0 or index.max() >= len(images)):
        raise ArtifactError(f"the {what} artifact points past the {len(images)} images of its data "
                            f"(the dataset changed since); evaluate again")
    return images[index]


def map_with_images(home, evaluation: dict) -> MapImages:
    """An ``embedding`` eval row -> its points with the test images they stand for."""
    points = read_embedding(evaluation)
    if not (evaluation.get("params") or {}).get("data"):
        return MapImages(points.xy, points.labels, None, [])
    split = _Splits(home).get(evaluation, "test")
    return MapImages(points.xy, points.labels, _take(split.images, points.indices, "embedding"),
                     list(split.classes))


def neighbours_with_images(home, retrievals: list[tuple[str, dict]], queries: int, top: int) -> NeighbourImages:
    """retrievals: (run label, ``retrieval`` eval row) per run -> the first ``queries`` query
    images of the first run, and every run's ``top`` neighbours of the same test images
    (retrieval draws its queries with a seed, so runs evaluated alike share them; a run
    without one of those queries is left out)."""
    hits = [(label, evaluation, read_retrieval(evaluation)) for label, evaluation in retrievals]
    if not hits:
        return NeighbourImages(np.zeros((0, 1, 1, 3), np.uint8), [], [])
    splits = _Splits(home)
    _, first_eval, first = hits[0]
    chosen = first.queries[:queries]
    test = splits.get(first_eval, "test")
    result = NeighbourImages(_take(test.images, chosen, "retrieval"),
                             [test.classes[int(test.labels[q])] for q in chosen], [])
    for label, evaluation, h in hits:
        rows = [np.flatnonzero(h.queries == q) for q in chosen]
        if any(len(r) == 0 for r in rows):
            continue
        rows = np.array([r[0] for r in rows])
        neighbours = h.neighbours[rows, :top]
        same = h.neighbour_labels[rows, :top] == h.query_labels[rows][:, None]
        images = _take(splits.get(evaluation, "train").images, neighbours.reshape(-1), "retrieval")
        result.runs.append(RunNeighbours(label, images.reshape(*neighbours.shape, *images.shape[1:]), same))
    return result
