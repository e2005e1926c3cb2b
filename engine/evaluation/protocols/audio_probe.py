"""Audio probe: a linear classifier on an audio-visual run's frozen audio-tower features,
L3-Net's transfer protocol (Arandjelovic & Zisserman, 2017, who probed the audio subnetwork
on ESC-50 and DCASE). On the run's own clip+audio data it reads each clip's sound against
``label``; with ``--data sound_folder`` it reads a labeled folder of sounds (ESC-50 style).
The classifier is the linear probe's: L-BFGS logistic regression, weight decay chosen on a
validation split of train, then refit (engine.evaluation.protocols.probe)."""
from __future__ import annotations

from engine.evaluation.protocols.linear import probe_params
from engine.evaluation.protocols.param_lists import number_list

WHAT = "the audio probe"


class AudioProbe:
    audio_visual_only = True  # not in ``--protocol all``: image runs have no audio tower
    id = "audio_probe"
    title = "Audio probe (sound)"
    summary = ("For audio-visual runs: a logistic regression on the frozen audio tower's features of each "
               "sound (the clips' soundtracks, or a sound_folder such as ESC-50), weight decay picked on a "
               "held-out part of train. Reports test top-1 (and top-5 with more than 5 classes).")
    citation = "Arandjelovic & Zisserman, 2017 (ICCV), L3-Net's audio transfer to ESC-50"
    params = probe_params()

    @staticmethod
    def run(ctx, p) -> dict:
        import torch

        from engine.evaluation.av_run import load_av_method, sound_features, sound_split
        from engine.evaluation.protocols.probe import probe_run

        grid = number_list(p["wd_grid"], float, "wd_grid")
        train, test = sound_split(ctx, "train", WHAT), sound_split(ctx, "test", WHAT)
        method = load_av_method(ctx, WHAT)
        feats = {}
        for name, split, (lo, hi) in (("train", train, (0.0, 0.4)), ("test", test, (0.4, 0.6))):
            ctx.phase(lo, hi)
            feats[name] = sound_features(method, split.audio, split.sample_rate, ctx.device, report=ctx.report)
        ctx.phase(0.6, 1.0)
        ytr, yte = torch.as_tensor(train.labels).long(), torch.as_tensor(test.labels).long()
        n_cls = max(len(train.classes), int(ytr.max()) + 1, int(yte.max()) + 1)
        out = probe_run(ctx, p, grid, feats["train"], ytr, feats["test"], yte, n_cls)
        return {**out, "classes": n_cls, "sample_rate": int(train.sample_rate),
                "seconds": float(train.audio.shape[1] / train.sample_rate)}

    @staticmethod
    def headline(results: dict) -> dict:
        out = {"audio top-1": results.get("top1", results.get("accuracy"))}  # accuracy: evaluate_sound's rows
        if results.get("top5") is not None:
            out["audio top-5"] = results["top5"]
        return out
