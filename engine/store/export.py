"""Export a run's metrics: CSV in wide form (one row per step, one column per key) or JSON.

The CSV's ``time`` is ISO 8601 with the UTC offset (a spreadsheet reads it, a Unix time it
does not), ``elapsed_s`` the seconds since the run's first row; the trainer's ``epoch``
metric is the ``epoch`` column, not a second one."""
from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

from engine.store.atomic_file import open_atomic, write_text_atomic
from engine.store.database import Store
from engine.store.run_record import Run


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")


def export_metrics(store: Store, run: Run, out: Path, fmt: str = "csv") -> int:
    """Write run ``run``'s metrics to ``out``; return the number of metric rows written."""
    rows = store.conn.execute("SELECT step, epoch, time, key, value FROM metrics WHERE run_id = ? "
                              "ORDER BY step, id", (run.id,)).fetchall()
    if fmt == "json":
        series: dict = {}
        for step, epoch, t, key, value in rows:
            series.setdefault(key, []).append({"step": step, "epoch": epoch, "time": t, "value": value})
        values = run.to_dict()
        info = {k: values[k] for k in ("id", "name", "status", "method", "backbone", "dataset")}
        write_text_atomic(out, json.dumps({"run": info, "config": run.config, "metrics": series}, indent=1))
        return len(rows)
    fixed = ["step", "epoch", "time", "elapsed_s"]
    keys = sorted({r[3] for r in rows} - set(fixed))
    start = min((r[2] for r in rows), default=0.0)
    by_step: dict = {}
    for step, epoch, t, key, value in rows:
        entry = by_step.setdefault(step, {"step": step, "epoch": epoch, "time": _iso(t),
                                          "elapsed_s": round(t - start, 3)})
        if key not in fixed:
            entry[key] = value
    with open_atomic(out, newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*fixed, *keys])
        writer.writeheader()
        writer.writerows(by_step[s] for s in sorted(by_step))
    return len(rows)
