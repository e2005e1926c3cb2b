"""Few-shot (low-shot) evaluation: k labeled train images per class, repeated random draws,
accuracy on the whole test split as mean +- std over the draws. The classifier is the
nearest class mean of centred, L2-normalised features (SimpleShot: Wang, Chao, Weinberger &
van der Maaten, 2019) or a logistic regression on the same features, as in the
low-shot probes of Goyal et al. (2019) and Caron et al. (2021)."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import number_list, seed_param
from engine.evaluation.protocols.split_features import class_count, train_and_test
from engine.params import Param


def draw_support(labels, k: int, rng, exclude=None):
    """labels: (N,) numpy int array of the train split -> indices (C * k,) of k distinct images
    per class drawn without replacement by ``rng`` (numpy Generator), never one whose index is
    in ``exclude`` (train images that also occur in the test split)."""
    import numpy as np

    allowed = np.ones(len(labels), bool)
    if exclude is not None and len(exclude):
        allowed[np.asarray(exclude)] = False
    picks = []
    for c in np.unique(labels):
        pool = np.flatnonzero((labels == c) & allowed)
        picks.append(rng.choice(pool, size=k, replace=False))
    return np.concatenate(picks)


def duplicates_of_test(train_images, test_images):
    """Indices of train images (N, H, W, 3) whose pixels equal some test image: a draw must
    never train on an image it is tested on."""
    import hashlib

    import numpy as np

    seen = {hashlib.sha1(img.tobytes()).digest() for img in test_images}
    return np.array([i for i, img in enumerate(train_images) if hashlib.sha1(img.tobytes()).digest() in seen],
                    dtype=np.int64)


def centre_normalize(support, query):
    """CL2N (Wang et al., 2019): subtract the support mean, then L2-normalise each row.
    support: (S, D), query: (M, D). Per-feature standardisation would blow up noise
    dimensions when S is a handful of images; this keeps the feature geometry."""
    import torch.nn.functional as F

    mean = support.mean(0, keepdim=True)
    return F.normalize(support - mean, dim=1), F.normalize(query - mean, dim=1)


def nearest_class_mean(train_f, train_y, test_f, num_classes):
    """Assign each CL2N test feature (M, D) to the class whose summed CL2N support feature
    (S, D) is most similar (nearest mean direction). -> (M,) predictions."""
    import torch

    a, b = centre_normalize(train_f, test_f)
    centroids = torch.zeros(num_classes, a.shape[1], device=a.device).index_add_(0, train_y, a)
    return torch.cdist(b, torch.nn.functional.normalize(centroids, dim=1)).argmin(1)


class FewShot:
    id = "fewshot"
    title = "Few-shot"
    summary = ("k labeled train images per class (k = 1 to 96, those the train split can supply), "
               "several random draws each; a nearest-class-mean or logistic-regression classifier on "
               "frozen features is scored on the whole test split. Reports mean +- std per k.")
    citation = "Wang, Chao, Weinberger & van der Maaten, 2019 (SimpleShot); Goyal et al., 2019 (ICCV)"
    params = [
        Param("shots", "list", "1,2,4,8,16,32,64,96", "labeled images per class; larger than the split allows are skipped",
              1, 10**6),
        Param("draws", "int", 5, "random draws per k", 1, 1000),
        Param("classifier", "choice", "ncm", "nearest class mean (CL2N) or logistic regression",
              choices=("ncm", "logreg")),
        Param("weight_decay", "float", 1e-3, "L2 penalty of the logistic regression", 0.0, 10.0),
        seed_param(),
    ]

    @staticmethod
    def run(ctx, p) -> dict:
        ctx.require_images("the few-shot protocol")
        import numpy as np
        import torch

        from engine.evaluation.protocols.probe import fit_logreg

        shots = sorted(set(number_list(p["shots"], int, "shots")))
        train_f, train_y, test_f, test_y = train_and_test(ctx, 0.4, 0.6)
        exclude = duplicates_of_test(ctx.labeled_split("train").images, ctx.labeled_split("test").images)
        labels = train_y.numpy()
        usable = np.ones(len(labels), bool)
        usable[exclude] = False
        per_class = min(int((usable & (labels == c)).sum()) for c in np.unique(labels))
        shots = [k for k in shots if 1 <= k <= per_class]
        n_cls = class_count(ctx, test_y)
        dev = ctx.device
        xt, yt = test_f.to(dev), test_y.to(dev)
        rng = np.random.default_rng(p["seed"])
        per_k = {}
        for i, k in enumerate(shots):
            accs = []
            for _ in range(p["draws"]):
                idx = torch.from_numpy(draw_support(labels, k, rng, exclude))
                xs, ys = train_f[idx].to(dev), train_y[idx].to(dev)
                if p["classifier"] == "ncm":
                    pred = nearest_class_mean(xs, ys, xt, n_cls)
                else:
                    xs_n, xt_n = centre_normalize(xs, xt)
                    model = fit_logreg(xs_n, ys, n_cls, p["weight_decay"])
                    with torch.no_grad():
                        pred = model(xt_n).argmax(1)
                accs.append((pred == yt).float().mean().item())
            per_k[str(k)] = {"mean": float(np.mean(accs)), "std": float(np.std(accs)), "accuracies": accs}
            ctx.report((i + 1) / max(1, len(shots)), f"{k}-shot")
        return {"per_k": per_k, "excluded_duplicates": int(len(exclude)), "test_size": len(test_y)}

    @staticmethod
    def headline(results: dict) -> dict:
        return {f"{k}-shot": [r["mean"], r["std"]] for k, r in results["per_k"].items()}
