"""Fine-tuning with 1 %, 10 % and 100 % of the labels: the whole backbone plus a linear head
trained end to end on a class-balanced subset of the train split with light augmentation
(random resized crop and flip), scored on the test split; the semi-supervised protocol of
SimCLR (Chen et al., 2020) and BYOL (Grill et al., 2020)."""
from __future__ import annotations

import math

from engine.evaluation.protocols.param_lists import number_list, seed_param
from engine.evaluation.protocols.split_features import class_count
from engine.params import Param


def label_subset(labels, fraction: float, seed: int):
    """labels: (N,) numpy ints -> sorted indices of ``fraction`` of each class (at least one)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    picks = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        picks.append(rng.choice(idx, size=max(1, round(fraction * len(idx))), replace=False))
    return np.sort(np.concatenate(picks))


class FineTune:
    id = "finetune"
    title = "Fine-tuning (1 / 10 / 100 % labels)"
    summary = ("The backbone and a new linear head are trained end to end with SGD on 1 %, 10 % and "
               "100 % of the train split's labels (class-balanced subsets), with random resized crops "
               "and flips, and scored on the test split: how well the pre-training helps when labels "
               "are scarce.")
    citation = "Chen, Kornblith, Norouzi & Hinton, 2020 (SimCLR, semi-supervised protocol)"
    params = [
        Param("fractions", "list", "0.01,0.1,1", "fractions of the labels, one result each", 1e-6, 1.0),
        Param("epochs", "int", 30, "passes over each labeled subset", 1, 10000),
        Param("min_steps", "int", 100, "at least this many steps, so tiny subsets still train", 1, 1000000),
        Param("batch_size", "int", 64, "images per step", 2, 4096),
        Param("lr_backbone", "float", 0.01, "learning rate of the backbone (SGD, cosine decay)", 0.0, 10.0, log=True),
        Param("lr_head", "float", 0.01, "learning rate of the linear head (SGD, cosine decay)", 1e-6, 10.0, log=True),
        Param("weight_decay", "float", 5e-4, "L2 weight decay", 0.0, 1.0),
        Param("crop_min", "float", 0.5, "smallest random crop, as a fraction of the image area", 0.05, 1.0),
        seed_param(),
    ]

    @staticmethod
    def _train(ctx, p, images, labels, n_cls, report):
        import torch

        from engine.ssl.augment import resized_crop, to_float

        torch.manual_seed(p["seed"])
        gen = torch.Generator().manual_seed(p["seed"])
        backbone = ctx.load_backbone().train()
        head = torch.nn.Linear(backbone.num_features, n_cls).to(ctx.device)
        opt = torch.optim.SGD([{"params": backbone.parameters(), "lr": p["lr_backbone"]},
                               {"params": head.parameters(), "lr": p["lr_head"]}],
                              momentum=0.9, weight_decay=p["weight_decay"])
        bs = max(2, min(p["batch_size"], len(labels)))
        steps = max(p["min_steps"], p["epochs"] * math.ceil(len(labels) / bs))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        order = torch.empty(0, dtype=torch.long)
        for step in range(steps):
            if len(order) < bs:  # a new pass over the subset; a short tail joins the next pass
                order = torch.cat([order, torch.randperm(len(labels), generator=gen)])
            idx, order = order[:bs], order[bs:]
            x = images[idx].to(ctx.device)
            x = ctx.backbone_input(resized_crop(to_float(x), x.shape[-1], (p["crop_min"], 1.0), gen=gen))
            loss = torch.nn.functional.cross_entropy(head(backbone.forward_features(x)), labels[idx].to(ctx.device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            report((step + 1) / steps, f"loss {loss.item():.3f}")
        return backbone.eval(), head

    @staticmethod
    def _score(ctx, backbone, head, images, labels) -> float:
        """Test top-1 of the fine-tuned network; images: (M, 3, H, W) uint8, labels: (M,)."""
        import torch

        hits = 0
        with torch.no_grad():
            for start in range(0, len(images), 256):
                x = ctx.backbone_input(images[start:start + 256].to(ctx.device))
                pred = head(backbone.forward_features(x)).argmax(1).cpu()
                hits += (pred == labels[start:start + 256]).sum().item()
        return hits / len(labels)

    @staticmethod
    def run(ctx, p) -> dict:
        ctx.require_images("fine-tuning")
        fractions = number_list(p["fractions"], float, "fractions")
        if any(not 0 < f <= 1 for f in fractions):
            from engine.params import ParamError

            raise ParamError(f"fractions must lie in (0, 1], got {p['fractions']}")
        images, labels = ctx.images("train"), ctx.labels("train")
        test_x, test_y = ctx.images("test"), ctx.labels("test")
        n_cls = class_count(ctx, test_y)
        out = {}
        for i, frac in enumerate(fractions):
            ctx.phase(i / len(fractions), (i + 1) / len(fractions))
            idx = label_subset(labels.numpy(), frac, p["seed"])
            backbone, head = FineTune._train(ctx, p, images[idx], labels[idx], n_cls, ctx.report)
            out[f"{frac:g}"] = {"top1": FineTune._score(ctx, backbone, head, test_x, test_y), "labels": len(idx)}
        return {"fractions": out, "test_size": len(test_y)}

    @staticmethod
    def headline(results: dict) -> dict:
        return {f"finetune {float(f) * 100:g}%": r["top1"] for f, r in results["fractions"].items()}
