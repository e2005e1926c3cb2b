"""A 2-D map of the test split's frozen features: t-SNE (van der Maaten & Hinton, 2008), or
UMAP (McInnes, Healy & Melville, 2018) when umap-learn is installed, saved as an artifact
(``engine.evaluation.artifacts.EmbeddingPoints``) for the GUI to plot."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import seed_param
from engine.params import Param


def umap_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("umap") is not None


class Embedding:
    id = "embedding"
    title = "2-D map (t-SNE / UMAP)"
    summary = ("Projects the frozen features of (a seeded subset of) the test split to two "
               "dimensions with t-SNE, or UMAP when umap-learn is installed, and stores the points "
               "with their labels as an artifact. Also reports how well a 5-NN classifier works in "
               "the map, a rough measure of how clearly the classes separate.")
    citation = "van der Maaten & Hinton, 2008 (JMLR); McInnes, Healy & Melville, 2018 (UMAP)"
    params = [
        Param("method", "choice", "auto", "auto: UMAP when installed, else t-SNE", choices=("auto", "tsne", "umap")),
        Param("max_points", "int", 2000, "at most this many test images (a seeded random subset)", 10, 100000),
        Param("perplexity", "float", 30.0, "t-SNE perplexity (capped below a third of the points)", 2.0, 100.0),
        Param("neighbors", "int", 15, "UMAP neighbourhood size", 2, 200),
        seed_param(),
    ]

    @staticmethod
    def _project(x, p, method):
        if method == "umap":
            import umap

            return umap.UMAP(n_neighbors=min(p["neighbors"], len(x) - 1), random_state=p["seed"]).fit_transform(x)
        from sklearn.manifold import TSNE

        perplexity = min(p["perplexity"], max(1.0, (len(x) - 1) / 3))
        return TSNE(2, perplexity=perplexity, init="pca", random_state=p["seed"]).fit_transform(x)

    @staticmethod
    def run(ctx, p) -> dict:
        import numpy as np
        from sklearn.model_selection import cross_val_score
        from sklearn.neighbors import KNeighborsClassifier

        from engine.evaluation.artifacts import EmbeddingPoints
        from engine.params import ParamError

        method = p["method"] if p["method"] != "auto" else ("umap" if umap_available() else "tsne")
        if method == "umap" and not umap_available():
            raise ParamError("method umap needs the umap-learn package; install it or use tsne")
        ctx.phase(0.0, 0.5)
        feats, labels = ctx.features("test")
        ctx.phase(0.5, 1.0)
        rng = np.random.default_rng(p["seed"])
        idx = np.sort(rng.choice(len(labels), size=min(p["max_points"], len(labels)), replace=False))
        xy = Embedding._project(feats[idx].numpy().astype(np.float64), p, method).astype(np.float32)
        y = labels[idx].numpy()
        folds = min(5, int(np.bincount(y)[np.unique(y)].min()))
        knn2d = (float(cross_val_score(KNeighborsClassifier(min(5, len(y) - 1)), xy, y, cv=folds).mean())
                 if folds >= 2 else None)
        path = ctx.save_artifact("embedding", method, **EmbeddingPoints(xy, y, idx).arrays())
        ctx.report(1.0, f"{method} map saved")
        return {"method": method, "points": len(idx), "knn5_in_map": knn2d, "path": path}

    @staticmethod
    def headline(results: dict) -> dict:
        return {} if results.get("knn5_in_map") is None else {"map 5-NN": results["knn5_in_map"]}
