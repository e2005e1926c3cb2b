"""The comparison table: one row per run, latest figure per column, CSV/Markdown/LaTeX."""
from __future__ import annotations

import csv
import io

import pytest

from engine.evaluation.tables import comparison_table, render_table
from engine.params import ParamError
from engine.store.database import Store


def make_run(store, name, data_params=None):
    cfg = {"data": {"id": "shapes", "params": data_params or {"image_size": 16}},
           "method": {"id": "simclr", "params": {}}, "backbone": {"id": "convnet", "params": {}}, "train": {}}
    return store.create_run(cfg, name=name, status="completed")


def test_rows_columns_latest_wins_and_other_data_is_labelled(tmp_path):
    store = Store(tmp_path)
    a, b, idle = make_run(store, "a_run"), make_run(store, "b"), make_run(store, "idle")
    own = {"data": {"id": "shapes", "params": {"image_size": 16}}}
    store.add_eval(a, "knn", "shapes", own, {"top1": {"20": 0.5, "200": 0.4}})
    store.add_eval(a, "knn", "shapes", own, {"top1": {"20": 0.6, "200": 0.45}})  # later: wins
    store.add_eval(a, "fewshot", "shapes", own, {"per_k": {"1": {"mean": 0.3, "std": 0.05, "accuracies": []}}})
    store.add_eval(b, "linear", "shapes", own, {"top1": 0.7, "top5": None})
    store.add_eval(b, "knn", "shapes", {"data": {"id": "shapes", "params": {"image_size": 32}}},
                   {"top1": {"20": 0.9}})
    columns, rows = comparison_table(tmp_path)
    assert columns[:5] == ["run", "id", "method", "backbone", "dataset"]
    assert columns[5:] == ["knn@20", "knn@200", "knn@20 [shapes image_size=32]", "linear top-1", "1-shot"]
    by_name = {r["run"]: r for r in rows}
    assert set(by_name) == {"a_run", "b"}  # runs without evaluations are left out
    assert by_name["a_run"]["knn@20"] == 0.6 and by_name["a_run"]["1-shot"] == [0.3, 0.05]
    assert by_name["b"]["knn@20 [shapes image_size=32]"] == 0.9 and "knn@20" not in by_name["b"]
    assert idle not in {r["id"] for r in rows}

    md = render_table(columns, rows, "md")
    short = by_name["a_run"]["id"].rsplit("-", 1)[-1]
    assert f"| a_run | {short} | simclr | convnet | shapes | 60.0 | 45.0 |  |  | 30.0 ± 5.0 |" in md
    tex = render_table(columns, rows, "tex")
    assert r"a\_run" in tex and r"30.0 $\pm$ 5.0" in tex
    parsed = list(csv.DictReader(io.StringIO(render_table(columns, rows, "csv"))))
    assert parsed[0]["1-shot"] in ("30.00", "") and "1-shot std" in parsed[0]
    assert {p["run"]: p["linear top-1"] for p in parsed} == {"a_run": "", "b": "70.00"}
    with pytest.raises(ParamError, match="table format"):
        render_table(columns, rows, "xls")


def test_named_runs_appear_even_without_evaluations(tmp_path):
    store = Store(tmp_path)
    a = make_run(store, "lonely")
    columns, rows = comparison_table(tmp_path, [a])
    assert [r["id"] for r in rows] == [a] and columns == ["run", "id", "method", "backbone", "dataset"]
