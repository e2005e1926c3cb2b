"""The Evaluate view's comparison table against random init (issue 20)."""
from __future__ import annotations

from engine.store.database import Store
from tests.engine.test_baseline_margin import _run


def test_the_evaluate_views_table_shows_the_margin_and_bolds_only_a_real_win(qtbot, tmp_path):
    from app.widgets.results_table import ResultsTable

    with Store(tmp_path) as store:
        ids = []
        for seed, (ours, rand) in enumerate([(0.145, 0.140), (0.137, 0.148), (0.153, 0.132)]):
            ids.append(_run(store, "default", "simclr", seed, ours))
            ids.append(_run(store, f"random init {seed}", "random", seed, rand))
    table = ResultsTable(tmp_path)
    qtbot.addWidget(table)
    table.refresh(ids)
    col = next(j for j in range(table.table.columnCount()) if table.table.horizontalHeaderItem(j).text() == "knn@20")
    items = [table.table.item(i, col) for i in range(table.table.rowCount())]
    assert not any(it.font().bold() for it in items)  # 14.5 vs 14.0 is inside the noise
    assert any("vs random init" in it.toolTip() and "not a win" in it.toolTip() for it in items)
    assert any("(+" in it.text() or "(-" in it.text() for it in items)
