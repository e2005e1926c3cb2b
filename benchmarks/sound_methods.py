"""Audio-visual methods vs random init on sounding_shapes: each method trained for a few
hundred steps on the CPU, then its own pretext accuracy on held-out clips, the audio probe,
cross-modal recall@1 (where the method has a shared space) and a visual kNN on the test
clips' middle frames. Prints a markdown table (docs/sound.md).

    python benchmarks/sound_methods.py --steps 250 --train-size 480
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine import registry
from engine.data.av_batch import av_batch
from engine.evaluation.cross_modal import evaluate_sound

METHODS = {"avc": {"fusion": "distance", "pairing": "both"}, "av_sync": {}, "avid": {"temperature": 0.1},
           "ambient_sound": {"clusters": 16}}
KEYS = {"avc": "avc_acc", "av_sync": "sync_acc", "avid": "xmodal_acc", "ambient_sound": "ambient_acc"}


def knn_accuracy(train_f, train_y, test_f, test_y, k: int = 20) -> float:
    """Cosine kNN (majority of k) on frozen features."""
    sim = F.normalize(test_f, dim=1) @ F.normalize(train_f, dim=1).t()
    votes = train_y[sim.topk(min(k, len(train_y)), dim=1).indices]
    return float((torch.mode(votes, dim=1).values == test_y).float().mean())


def heldout_pretext(method, test, key: str) -> float:
    """The method's own accuracy on held-out clips, eval mode, three seeded draws."""
    method.eval()
    accs = []
    with torch.no_grad():
        for seed in range(3):
            method.set_seed(100 + seed)
            accs += [float(method.training_step(test[i:i + 40])[key]) for i in range(0, len(test) - 39, 40)]
    return sum(accs) / len(accs)


def train(method, data, steps: int) -> None:
    opt = torch.optim.Adam(method.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    method.train()
    for step in range(steps):
        out = method.training_step(data[torch.randint(len(data), (32,), generator=g)])
        opt.zero_grad(set_to_none=True)
        out["loss"].backward()
        opt.step()
        method.on_step_end((step + 1) / steps)


def row(mid, init, method, train_s, test_s, trn, tst) -> str:
    pretext = heldout_pretext(method, tst, KEYS[mid])
    sound = evaluate_sound(method, train_s, test_s)
    with torch.no_grad():  # middle frames as one-frame... two-frame clips
        ftr = torch.cat([method.embed(trn.frames[i:i + 64, 3:5]) for i in range(0, len(trn), 64)])
        fte = torch.cat([method.embed(tst.frames[i:i + 64, 3:5]) for i in range(0, len(tst), 64)])
    knn = knn_accuracy(ftr, torch.from_numpy(train_s.labels), fte, torch.from_numpy(test_s.labels))
    r = sound.get("cross_modal_retrieval", {})
    f2s = f"{r['frame_to_sound_R@1']:.3f}" if r else "-"
    s2f = f"{r['sound_to_frame_R@1']:.3f}" if r else "-"
    return f"| {mid} | {init} | {pretext:.3f} | {sound['audio_probe']['accuracy']:.3f} | {f2s} | {s2f} | {knn:.3f} |"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--train-size", type=int, default=480)
    ap.add_argument("--width", type=int, default=8)
    args = ap.parse_args()
    torch.set_num_threads(1)
    registry.discover()
    data = {"image_size": 16, "frames": 8, "fps": 8.0, "sample_rate": 8000, "num_classes": 4,
            "train_size": args.train_size, "test_size": 120}
    ds = registry.create_dataset("sounding_shapes", data)
    train_s, test_s = ds.split("train"), ds.split("test")
    trn, tst = av_batch(train_s.images, train_s.audio, 8000), av_batch(test_s.images, test_s.audio, 8000)
    print(f"sounding_shapes {data}; framewise convnet width {args.width}, l3_audio width {args.width}, "
          f"32 mels, 20 ms hop; {args.steps} Adam steps (lr 2e-3, batch 32), one CPU thread")
    print("| method | init | held-out pretext acc | audio probe | frame->sound R@1 | sound->frame R@1 | visual kNN |")
    print("|---|---|---|---|---|---|---|")
    for mid, extra in METHODS.items():
        for init in ("random", "trained"):
            t0 = time.time()
            torch.manual_seed(0)
            backbone = registry.create_backbone("framewise", {"width": args.width}, 16)
            method = registry.create_method(mid, backbone, {"audio_width": args.width, "audio_mels": 32,
                                                            "audio_hop_ms": 20.0, **extra}, 16, 4)
            method.set_seed(0)
            if init == "trained":
                train(method, trn, args.steps)
            print(row(mid, init, method, train_s, test_s, trn, tst) + f"  <!-- {time.time() - t0:.0f} s -->",
                  flush=True)


if __name__ == "__main__":
    main()
