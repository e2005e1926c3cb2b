"""Weighted cosine k-nearest-neighbour classification on frozen features (Wu et al., 2018),
with k = 20 and 200 and temperature 0.07 as in DINO (Caron et al., 2021)."""
from __future__ import annotations

from engine.evaluation.protocols.param_lists import number_list
from engine.evaluation.protocols.split_features import class_count, train_and_test
from engine.params import Param


class KNN:
    id = "knn"
    title = "k-NN"
    summary = ("Each test image is classified by a vote of its k most similar train images (cosine "
               "similarity of frozen features), each weighted by exp(similarity / T). No training, "
               "no hyper-parameter search: the cheapest read-out of a representation.")
    citation = "Wu, Xiong, Yu & Lin, 2018 (CVPR); Caron et al., 2021 (DINO)"
    params = [
        Param("k", "list", "20,200", "numbers of neighbours, one result each", 1, 10**6),
        Param("temperature", "float", 0.07, "temperature T of the vote weights exp(sim / T)", 1e-3, 10.0, log=True),
    ]

    @staticmethod
    def run(ctx, p) -> dict:
        from engine.evaluation.weighted_knn import knn_accuracy

        ks = number_list(p["k"], int, "k")
        train_f, train_y, test_f, test_y = train_and_test(ctx, 0.45, 0.9)
        n_cls = class_count(ctx, test_y)
        dev = ctx.device
        top1 = {}
        for i, k in enumerate(ks):
            top1[str(k)] = knn_accuracy(train_f.to(dev), train_y.to(dev), test_f.to(dev), test_y.to(dev),
                                        k=k, temperature=p["temperature"], num_classes=n_cls)
            ctx.report((i + 1) / len(ks), f"k = {k}")
        return {"top1": top1, "train_size": len(train_y), "test_size": len(test_y)}

    @staticmethod
    def headline(results: dict) -> dict:
        return {f"knn@{k}": v for k, v in results["top1"].items()}
