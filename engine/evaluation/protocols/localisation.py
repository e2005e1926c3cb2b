"""Sound localisation maps: where in a frame does the sound come from? For a handful of
held-out clips, the cosine similarity of the clip's sound embedding with the frame's visual
feature map at every position, in the method's shared space ("Objects that Sound",
Arandjelovic & Zisserman, 2018). Stored as an artifact
(``engine.evaluation.artifacts.LocalisationMaps``) that the Evaluate view draws over the frames.

Reported: ``contrast``, the mean over clips of (map maximum - map mean), and ``peak_share``,
how often the map's peak is at a position where the frame differs most from its border
colour (the sounding object on sounding_shapes' plain backgrounds) -- a rough read-out, not a
standard benchmark figure."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import seed_param
from engine.params import Param

WHAT = "localisation"


class Localisation:
    audio_visual_only = True  # not in ``--protocol all``: image runs have no audio tower
    id = "localisation"
    title = "Sound localisation maps"
    summary = ("For audio-visual runs with a shared space (AVID; AVC with distance fusion): on a few test clips, "
               "the similarity of each clip's sound embedding with the middle frame's feature map at every "
               "position, kept as an artifact and drawn over the frames as heat maps.")
    citation = "Arandjelovic & Zisserman, 2018 (ECCV), Objects that Sound"
    params = [
        Param("clips", "int", 8, "held-out clips to map (a seeded random subset of the test split)", 1, 64),
        seed_param(),
    ]

    @staticmethod
    def run(ctx, p) -> dict:
        import numpy as np
        import torch

        from engine.data.av_batch import AVBatch
        from engine.data.errors import DataError
        from engine.evaluation.artifacts import LocalisationMaps
        from engine.evaluation.av_run import load_av_method, sound_split
        from engine.evaluation.cross_modal import sound_maps, visual_projection

        test = sound_split(ctx, "test", WHAT)
        if test.images is None:
            raise DataError(f"{WHAT} needs clips with their sound; dataset {ctx.dataset_id} holds sounds only")
        method = load_av_method(ctx, WHAT)
        visual_projection(method)  # refused before any progress is shown
        ctx.report(0.3, "method loaded")
        rng = np.random.default_rng(p["seed"])
        idx = np.sort(rng.choice(len(test), size=min(p["clips"], len(test)), replace=False))
        frames = ctx.images("test")[torch.from_numpy(idx)]                       # (Q, T, 3, S, S) uint8
        audio = torch.from_numpy(np.array(test.audio[idx], np.int16))
        batch = AVBatch(frames, audio, int(test.sample_rate)).to(ctx.device)
        maps = sound_maps(method, batch).float().cpu().numpy()                    # (Q, h, w)
        middle = frames[:, frames.shape[1] // 2].permute(0, 2, 3, 1).numpy()     # (Q, S, S, 3)
        artifact = LocalisationMaps(np.ascontiguousarray(middle), maps.astype(np.float32), idx,
                                    np.asarray(test.labels)[idx])
        path = ctx.save_artifact("localisation", ctx.dataset_id, **artifact.arrays())
        ctx.report(1.0, "maps saved")
        contrast = float((maps.reshape(len(idx), -1).max(1) - maps.reshape(len(idx), -1).mean(1)).mean())
        return {"clips": len(idx), "map_size": list(maps.shape[1:]), "contrast": contrast,
                "peak_share": _peak_on_object(middle, maps), "path": path}

    @staticmethod
    def headline(results: dict) -> dict:
        return {}


def _peak_on_object(frames, maps) -> float:
    """The share of maps whose peak cell covers the frame's most object-like cell: the one
    whose pixels differ most from the frame's corner colour (frames (Q, S, S, 3), maps (Q, h, w))."""
    import numpy as np

    q, h, w = maps.shape
    s = frames.shape[1]
    diff = np.abs(frames.astype(np.float32) - frames[:, :1, :1].astype(np.float32)).sum(-1)   # (Q, S, S)
    cells = diff[:, : s // h * h, : s // w * w].reshape(q, h, s // h, w, s // w).mean(axis=(2, 4))
    return float((cells.reshape(q, -1).argmax(1) == maps.reshape(q, -1).argmax(1)).mean())
