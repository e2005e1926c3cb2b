"""Nearest-neighbour retrieval: for query images of the test split, their most similar train
images by cosine similarity of frozen features, and the fraction of them sharing the query's
label (precision@k), as in the retrieval read-outs of Wu et al. (2018). The neighbours are
kept as an artifact (``engine.evaluation.artifacts.RetrievalHits``)."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import seed_param
from engine.evaluation.protocols.split_features import train_and_test
from engine.params import Param


class Retrieval:
    id = "retrieval"
    title = "Retrieval"
    summary = ("Q test images (a seeded random subset) retrieve their k nearest train images by "
               "cosine similarity of frozen features. Reports precision@k, the share of retrieved "
               "images with the query's label; the neighbours are kept as an artifact to browse.")
    citation = "Wu, Xiong, Yu & Lin, 2018 (CVPR)"
    params = [
        Param("queries", "int", 100, "query images drawn from the test split (all if fewer)", 1, 100000),
        Param("k", "int", 10, "neighbours retrieved per query", 1, 1000),
        seed_param(),
    ]

    @staticmethod
    def run(ctx, p) -> dict:
        import numpy as np
        import torch
        import torch.nn.functional as F

        from engine.evaluation.artifacts import RetrievalHits

        train_f, train_y, test_f, test_y = train_and_test(ctx, 0.6, 0.9)
        rng = np.random.default_rng(p["seed"])
        q = np.sort(rng.choice(len(test_y), size=min(p["queries"], len(test_y)), replace=False))
        k = min(p["k"], len(train_y))
        with torch.no_grad():
            sim = F.normalize(test_f[q].to(ctx.device), dim=1) @ F.normalize(train_f.to(ctx.device), dim=1).T
            top_sim, top_idx = sim.topk(k, dim=1)
        top_sim, top_idx = top_sim.cpu(), top_idx.cpu()
        hits = (train_y[top_idx] == test_y[torch.from_numpy(q)].view(-1, 1)).float()
        hits_file = RetrievalHits(q, top_idx.numpy(), top_sim.numpy(), test_y[q].numpy(), train_y[top_idx].numpy())
        path = ctx.save_artifact("retrieval", ctx.dataset_id, **hits_file.arrays())
        ctx.report(1.0, "neighbours found")
        return {"precision_at_k": hits.mean().item(), "precision_at_1": hits[:, 0].mean().item(),
                "k": k, "queries": len(q), "path": path}

    @staticmethod
    def headline(results: dict) -> dict:
        return {f"P@{results['k']}": results["precision_at_k"]}
