"""Multinomial logistic regression on frozen features, trained in torch with full-batch
L-BFGS, the way CLIP's linear probes are fit (Radford et al., 2021: L-BFGS logistic
regression, the L2 penalty chosen on a validation split); used by the linear, layer-wise
and few-shot protocols.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def standardize(train: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Centre and scale every feature by the train split's mean and std. train: (N, D)."""
    mean = train.mean(0, keepdim=True)
    std = train.std(0, keepdim=True).clamp(min=1e-6) if len(train) > 1 else torch.ones_like(mean)
    return [(t - mean) / std for t in (train, *others)]


def fit_logreg(x: torch.Tensor, y: torch.Tensor, num_classes: int, weight_decay: float,
               max_iter: int = 100) -> torch.nn.Linear:
    """x: (N, D) float, y: (N,) int64 on one device -> a fitted ``Linear(D, C)``.

    Minimises mean cross-entropy + ``weight_decay / 2 * ||W||^2`` (bias not penalised), a
    convex problem: the same data and penalty give the same classifier (zero init)."""
    x = x.detach()
    model = torch.nn.Linear(x.shape[1], num_classes).to(x.device)
    torch.nn.init.zeros_(model.weight)
    torch.nn.init.zeros_(model.bias)
    opt = torch.optim.LBFGS(model.parameters(), lr=1.0, max_iter=max_iter, history_size=20,
                            line_search_fn="strong_wolfe", tolerance_grad=1e-6, tolerance_change=1e-9)

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y) + 0.5 * weight_decay * model.weight.pow(2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return model


@torch.no_grad()
def topk_accuracy(logits: torch.Tensor, y: torch.Tensor, k: int = 1) -> float:
    """logits: (N, C), y: (N,) -> fraction of rows whose label is among the k highest scores."""
    k = min(k, logits.shape[1])
    hits = (logits.topk(k, dim=1).indices == y.view(-1, 1)).any(1)
    return hits.float().mean().item()


def validation_split(y: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Stratified (train_idx, val_idx) of ``y`` (N,): ``fraction`` of each class held out
    (at least one image of a class with two or more, none of a class with one)."""
    gen = torch.Generator().manual_seed(seed)
    train_idx, val_idx = [], []
    for c in torch.unique(y).tolist():
        idx = torch.nonzero(y == c).flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        n_val = min(len(idx) - 1, max(1, round(fraction * len(idx)))) if len(idx) > 1 else 0
        val_idx.append(idx[:n_val])
        train_idx.append(idx[n_val:])
    return torch.cat(train_idx).sort().values, torch.cat(val_idx).sort().values


def probe(train_f, train_y, test_f, test_y, num_classes: int, wd_grid: list[float], val_fraction: float = 0.2,
          max_iter: int = 100, seed: int = 0, device="cpu", report=None) -> dict:
    """The linear-probe protocol on features: standardise, pick the weight decay with the best
    validation top-1 (a stratified ``val_fraction`` of the train split), refit on the whole
    train split with it, report test top-1 and top-5 (None with 5 classes or fewer).

    train_f: (N, D), train_y: (N,), test_f: (M, D), test_y: (M,) (any device)."""
    train_f, test_f = train_f.detach(), test_f.detach()  # features are frozen: no graph into the backbone
    x, xt = standardize(train_f.to(device).float(), test_f.to(device).float())
    y, yt = train_y.to(device), test_y.to(device)
    val_top1 = {}
    if len(wd_grid) > 1:
        tr, va = validation_split(train_y.cpu(), val_fraction, seed)
        xtr, xva = standardize(train_f[tr].to(device).float(), train_f[va].to(device).float())
        for i, wd in enumerate(wd_grid):
            model = fit_logreg(xtr, y[tr.to(device)], num_classes, wd, max_iter)
            val_top1[wd] = topk_accuracy(model(xva), y[va.to(device)])
            if report:
                report((i + 1) / (len(wd_grid) + 1), f"weight decay {wd:g}")
    best = max(val_top1, key=lambda wd: (val_top1[wd], wd)) if val_top1 else wd_grid[0]
    model = fit_logreg(x, y, num_classes, best, max_iter)
    with torch.no_grad():
        logits = model(xt)
    if report:
        report(1.0, "probe fitted")
    top5 = topk_accuracy(logits, yt, 5) if num_classes > 5 else None  # with <= 5 classes it is always 1
    return {"top1": topk_accuracy(logits, yt, 1), "top5": top5,
            "weight_decay": best, "val_top1": {f"{wd:g}": acc for wd, acc in val_top1.items()}}


def probe_run(ctx, p: dict, wd_grid: list[float], train_f, train_y, test_f, test_y, num_classes: int) -> dict:
    """``probe`` with a protocol's resolved probe params ``p`` (``probe_params``) on the
    evaluation context's device, its results plus the feature and split sizes.
    train_f: (N, D), train_y: (N,), test_f: (M, D), test_y: (M,)."""
    out = probe(train_f, train_y, test_f, test_y, num_classes, wd_grid, p["val_fraction"], p["max_iter"],
                p["seed"], ctx.device, ctx.report)
    return {**out, "dims": int(train_f.shape[1]), "train_size": len(train_y), "test_size": len(test_y)}
