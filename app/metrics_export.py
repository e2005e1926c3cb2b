"""Export a run's metrics as CSV (long format: step, epoch, time, key, value)."""
from __future__ import annotations

import csv
from pathlib import Path

from engine.store import Store


def export_csv(store: Store, run_id: str, path: Path) -> int:
    """Write every metric row of ``run_id`` to ``path``; return the number of rows."""
    rows = store.metrics_since(run_id, 0)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "epoch", "time", "key", "value"])
        for r in rows:
            writer.writerow([r["step"], r["epoch"], r["time"], r["key"], r["value"]])
    return len(rows)
