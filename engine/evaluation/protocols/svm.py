"""Linear SVMs on frozen features with the cost chosen by cross-validation, the VOC07
protocol of Goyal, Mahajan, Gupta & Misra (2019) applied to single-label classification:
features are L2-normalised, one-vs-rest linear SVMs are trained for each cost in a sweep,
the cost with the best k-fold cross-validation accuracy on the train split is refit on it."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import number_list, seed_param
from engine.evaluation.protocols.split_features import train_and_test
from engine.params import Param


class SVM:
    id = "svm"
    title = "Linear SVM"
    summary = ("One-vs-rest linear SVMs (scikit-learn LinearSVC) on L2-normalised frozen features. "
               "A sweep of costs C is scored by k-fold cross-validation on the train split; the best "
               "C is refit on the whole split and scored on the test split.")
    citation = "Goyal, Mahajan, Gupta & Misra, 2019 (ICCV)"
    params = [
        Param("costs", "list", "0.001,0.01,0.1,1,10", "the cost values C swept", 1e-12, 1e12),
        Param("folds", "int", 3, "cross-validation folds on the train split", 2, 20),
        Param("normalize", "choice", "l2", "feature normalisation before the SVM",
              choices=("l2", "standardize", "none")),
        Param("max_iter", "int", 2000, "liblinear iterations per SVM", 100, 100000),
        seed_param(),
    ]

    @staticmethod
    def _prepare(train, test, how):
        import numpy as np

        if how == "l2":
            norm = lambda a: a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)  # noqa: E731
            return norm(train), norm(test)
        if how == "standardize":
            mean, std = train.mean(0), np.maximum(train.std(0), 1e-6)
            return (train - mean) / std, (test - mean) / std
        return train, test

    @staticmethod
    def run(ctx, p) -> dict:
        import warnings

        import numpy as np
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.svm import LinearSVC

        from engine.data.dataset import DataError

        costs = number_list(p["costs"], float, "costs")
        train_f, train_y, test_f, test_y = train_and_test(ctx, 0.3, 0.4)
        x, xt = SVM._prepare(train_f.numpy(), test_f.numpy(), p["normalize"])
        y, yt = train_y.numpy(), test_y.numpy()
        folds = min(p["folds"], int(np.bincount(y)[np.unique(y)].min()))
        if folds < 2:
            raise DataError("the SVM protocol needs at least two train images of every class")
        cv = StratifiedKFold(folds, shuffle=True, random_state=p["seed"])
        scores = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for i, c in enumerate(costs):
                svm = LinearSVC(C=c, max_iter=p["max_iter"], random_state=p["seed"])
                scores[c] = float(cross_val_score(svm, x, y, cv=cv).mean())
                ctx.report((i + 1) / (len(costs) + 1), f"C = {c:g}")
            best = max(scores, key=lambda c: (scores[c], -c))  # ties: the smaller cost
            svm = LinearSVC(C=best, max_iter=p["max_iter"], random_state=p["seed"]).fit(x, y)
        acc = float((svm.predict(xt) == yt).mean())
        ctx.report(1.0, "SVM fitted")
        return {"accuracy": acc, "cost": best, "folds": folds,
                "cv_accuracy": {f"{c:g}": s for c, s in scores.items()}}

    @staticmethod
    def headline(results: dict) -> dict:
        return {"svm acc": results["accuracy"]}
