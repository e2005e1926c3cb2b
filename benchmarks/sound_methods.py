"""Audio-visual methods vs random init and a supervised reference on sounding_shapes.

Each method is trained for a few hundred steps on the CPU, then read out: its own pretext
accuracy on held-out clips, the audio probe, cross-modal recall@1 (where the method has a
shared space) and a visual kNN on the held-out clips' middle frames. The supervised row
trains the same visual tower with cross-entropy on the shape label (the visual kNN's
ceiling at this budget). Several seeds give mean +- s.d.; prints a markdown table
(docs/sound.md).

``--select FRACTION`` is for choosing settings: training uses the rest of train and every
figure is scored on a stratified validation split of that share of train; test is not read.

    python benchmarks/sound_methods.py --steps 1000 --train-size 480 --image-size 32 --seeds 0,1,2
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import registry  # noqa: E402
from engine.data.av_batch import av_batch  # noqa: E402
from engine.data.stratified_split import stratified_split  # noqa: E402
from engine.data.validation_view import take  # noqa: E402
from engine.evaluation.cross_modal import evaluate_sound  # noqa: E402
from engine.params import ParamError  # noqa: E402
from engine.ssl.augment import normalize, to_float  # noqa: E402

METHODS = {"avc": {"fusion": "distance", "pairing": "both"}, "av_sync": {}, "avid": {"temperature": 0.1},
           "ambient_sound": {"clusters": 16}}
KEYS = {"avc": "avc_acc", "av_sync": "sync_acc", "avid": "xmodal_acc", "ambient_sound": "ambient_acc"}
COLUMNS = ("pretext", "audio", "f2s", "s2f", "knn")
SUPERVISED = "supervised (visual)"
MIDDLE = slice(3, 5)  # the frames the visual kNN reads: two middle frames as a clip


def knn_accuracy(train_f, train_y, test_f, test_y, k: int = 20) -> float:
    """Cosine kNN (majority of k) on frozen features."""
    sim = F.normalize(test_f, dim=1) @ F.normalize(train_f, dim=1).t()
    votes = train_y[sim.topk(min(k, len(train_y)), dim=1).indices]
    return float((torch.mode(votes, dim=1).values == test_y).float().mean())


def heldout_pretext(method, test, key: str) -> float:
    """The method's own accuracy on held-out clips, eval mode, three seeded draws."""
    method.eval()
    accs, n = [], min(40, len(test))
    with torch.no_grad():
        for seed in range(3):
            method.set_seed(100 + seed)
            accs += [float(method.training_step(test[i:i + n])[key]) for i in range(0, len(test) - n + 1, n)]
    return sum(accs) / len(accs)


def train(step_loss, params, steps: int) -> None:
    """``steps`` Adam steps (lr 2e-3) of ``step_loss(step) -> loss``."""
    opt = torch.optim.Adam(params, lr=2e-3)
    for step in range(steps):
        loss = step_loss(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def visual_knn(embed, trn, tst, train_s, test_s) -> float:
    with torch.no_grad():
        ftr = torch.cat([embed(trn.frames[i:i + 64, MIDDLE]) for i in range(0, len(trn), 64)])
        fte = torch.cat([embed(tst.frames[i:i + 64, MIDDLE]) for i in range(0, len(tst), 64)])
    return knn_accuracy(ftr, torch.from_numpy(train_s.labels), fte, torch.from_numpy(test_s.labels))


def av_figures(mid, method, train_s, test_s, trn, tst) -> dict:
    sound = evaluate_sound(method, train_s, test_s)
    r = sound.get("cross_modal_retrieval", {})
    return {"pretext": heldout_pretext(method, tst, KEYS[mid]), "audio": sound["audio_probe"]["accuracy"],
            "f2s": r.get("frame_to_sound_R@1"), "s2f": r.get("sound_to_frame_R@1"),
            "knn": visual_knn(method.embed, trn, tst, train_s, test_s)}


def param_names(mid: str) -> set[str]:
    return {p.name for p in registry.get("method", mid).schema}


def method_sets(args, mid: str) -> dict:
    """The ``--method-set KEY=VALUE`` items that ``mid`` has a parameter for."""
    return {k: v for k, v in (kv.split("=", 1) for kv in args.method_set) if k in param_names(mid)}


def av_method(mid, seed, args, num_classes):
    torch.manual_seed(seed)
    backbone = registry.create_backbone("framewise", {"width": args.width}, 16)
    method = registry.create_method(mid, backbone, {"audio_width": args.width, "audio_mels": 32,
                                                    "audio_hop_ms": 20.0, **METHODS[mid], **method_sets(args, mid)},
                                    16, num_classes)
    method.set_seed(seed)
    return method


def train_av(method, trn, steps, seed) -> None:
    g = torch.Generator().manual_seed(seed)
    method.train()

    def step_loss(step):
        out = method.training_step(trn[torch.randint(len(trn), (32,), generator=g)])
        method.on_step_end((step + 1) / steps)
        return out["loss"]
    train(step_loss, method.parameters(), steps)


def supervised_knn(seed, args, trn, tst, train_s, test_s, num_classes) -> float:
    """The visual tower trained with cross-entropy on the shape of one random frame per clip."""
    torch.manual_seed(seed)
    backbone = registry.create_backbone("framewise", {"width": args.width}, 16)
    head = torch.nn.Linear(backbone.num_features, num_classes)
    labels = torch.from_numpy(train_s.labels)
    g = torch.Generator().manual_seed(seed)

    def frames(clips):  # (B, T, 3, H, W) uint8 -> normalised floats, as the AV methods see them
        return normalize(to_float(clips))

    def step_loss(step):
        idx = torch.randint(len(trn), (32,), generator=g)
        t = int(torch.randint(trn.frames.shape[1], (1,), generator=g))
        return F.cross_entropy(head(backbone.forward_features(frames(trn.frames[idx, t:t + 1]))), labels[idx])
    backbone.train()
    train(step_loss, [*backbone.parameters(), *head.parameters()], args.steps)
    backbone.eval()
    return visual_knn(lambda x: backbone.forward_features(frames(x)), trn, tst, train_s, test_s)


def cell(values) -> str:
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def splits(args):
    data = {"image_size": args.image_size, "frames": 8, "fps": 8.0, "sample_rate": 8000, "num_classes": 4,
            "train_size": args.train_size, "test_size": 120, "background": args.background}
    ds = registry.create_dataset("sounding_shapes", data)
    train_s = ds.split("train")
    if args.select:
        keep, val = stratified_split(train_s.labels, args.select, 0)
        return data, take(train_s, keep), take(train_s, val)
    return data, train_s, ds.split("test")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--train-size", type=int, default=480)
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--image-size", type=int, default=16)
    ap.add_argument("--background", choices=("textured", "plain"), default="textured")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--select", type=float, metavar="FRACTION",
                    help="choose settings: score on a validation split of this share of train; test is not read")
    ap.add_argument("--method-set", action="append", default=[], metavar="KEY=VALUE",
                    help="a method parameter for every benchmarked method that has it")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    registry.discover()
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"error: {unknown[0]!r} is not an audio-visual method benchmarked here ({', '.join(METHODS)})",
              file=sys.stderr)
        return 2
    keys = [kv.split("=", 1)[0] for kv in args.method_set]
    stray = [k for k in keys if not any(k in param_names(m) for m in methods)]
    if stray:
        print(f"error: no method benchmarked here has a parameter {stray[0]!r}", file=sys.stderr)
        return 2
    try:
        for mid in methods:
            registry.resolve_params("method", mid, method_sets(args, mid))
    except ParamError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    data, train_s, test_s = splits(args)
    trn = av_batch(train_s.images, train_s.audio, 8000)
    tst = av_batch(test_s.images, test_s.audio, 8000)
    rows: dict[tuple[str, str], dict] = {}
    for seed in (int(s) for s in args.seeds.split(",")):
        for mid in methods:
            for init in ("random", "trained"):
                t0 = time.time()
                method = av_method(mid, seed, args, data["num_classes"])
                if init == "trained":
                    train_av(method, trn, args.steps, seed)
                got = av_figures(mid, method, train_s, test_s, trn, tst)
                for k, v in got.items():
                    rows.setdefault((mid, init), {c: [] for c in COLUMNS})[k].append(v)
                print(f"{mid} {init} seed {seed}: {got} ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
        knn = supervised_knn(seed, args, trn, tst, train_s, test_s, data["num_classes"])
        rows.setdefault((SUPERVISED, "trained"), {c: [] for c in COLUMNS})["knn"].append(knn)
        print(f"supervised seed {seed}: knn {knn:.3f}", file=sys.stderr, flush=True)
    scored = f"validation split ({args.select:g} of train)" if args.select else f"{len(test_s.labels)} test clips"
    print(f"sounding_shapes {data}; scored on {scored}; framewise convnet width {args.width}, l3_audio width "
          f"{args.width}, 32 mels, 20 ms hop; {args.steps} Adam steps (lr 2e-3, batch 32), one CPU thread; "
          f"seeds {args.seeds}" + "".join(f"; {kv}" for kv in args.method_set))
    print("| method | init | held-out pretext acc | audio probe | frame->sound R@1 | sound->frame R@1 | visual kNN |")
    print("|---|---|---|---|---|---|---|")
    for (mid, init), r in rows.items():
        print(f"| {mid} | {init} | " + " | ".join(cell(r[c]) for c in COLUMNS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
