"""The experiment store at scale: a home with 1,000 runs and 2 million metric rows.

Measures, on a fresh temporary home (or --home):
- insert rate of metric rows through ``Store.log_metrics`` (batched, one transaction per call);
- ``Store.list_runs()`` (what ``main.py runs`` and the runs browser call) with every run, and
  ``Store.watched_runs()`` (the main window's 2 s status poll: active runs only);
- reading one run's full curves (``metric_keys`` + ``metric_series`` per key);
- step-to-store latency: a writer thread logs every step through ``engine.run_log.RunLog``
  (buffered, flushed every 0.25 s) while a reader polls ``metrics_since`` at 10 Hz, as the
  GUI monitor does; latency = when the reader saw a row - the time of the step;
- the filter language (engine/store/run_filter.py) over every listed run, and a group-by;
- with PySide6 and app/ present: opening the runs browser (app.runs_view.RunsView) offscreen,
  selecting one run (its curves drawn) and typing a filter (``--where``).

    python benchmarks/scale.py --runs 1000 --rows 2000000
    python benchmarks/scale.py --runs 10000 --rows 500000 --latency-seconds 3   # the 10,000-run browser
Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.store.database import Store  # noqa: E402
from engine.store.run_log import RunLog  # noqa: E402

KEYS = ("loss", "contrastive_acc", "lr", "img_per_s", "epoch")


def _config(i: int) -> dict:
    methods = ("simclr", "byol", "moco", "vicreg", "rotation")
    return {"data": {"id": "shapes", "params": {"image_size": 32}},
            "method": {"id": methods[i % len(methods)], "params": {"temperature": 0.5}},
            "backbone": {"id": "convnet", "params": {"width": 32}},
            "train": {"epochs": 10, "batch_size": 256, "lr": 1e-3, "seed": i}}


def _rows(steps: int, run_index: int) -> list[tuple]:
    """(step, epoch, time, key, value) rows of a plausible curve."""
    t0 = 1.7e9 + run_index * 3600
    out = []
    for s in range(1, steps + 1):
        values = (4.0 * math.exp(-s / 300) + 0.5, 1 - math.exp(-s / 200), 1e-3, 900.0, s / 100)
        out += [(s, s / 100, t0 + s * 0.1, k, v) for k, v in zip(KEYS, values)]
    return out


def fill(home: Path, runs: int, rows: int, batch_rows: int) -> dict:
    """Create ``runs`` completed runs holding ``rows`` metric rows in all; time both parts."""
    store = Store(home)
    start = time.perf_counter()
    ids = [store.create_run(_config(i), name=f"run-{i:04d}", status="completed") for i in range(runs)]
    create_s = time.perf_counter() - start
    steps = max(1, rows // (runs * len(KEYS)))
    insert_s, inserted = 0.0, 0
    for i, run_id in enumerate(ids):
        data = _rows(steps, i)
        start = time.perf_counter()
        for j in range(0, len(data), batch_rows):
            store.log_metrics(run_id, data[j:j + batch_rows])
        insert_s += time.perf_counter() - start
        inserted += len(data)
        store.update_run(run_id, started=1.7e9 + i * 3600, ended=1.7e9 + i * 3600 + steps * 0.1,
                         step=steps, total_steps=steps)
    store.close()
    return {"runs": runs, "metric_rows": inserted, "rows_per_run": steps * len(KEYS), "batch_rows": batch_rows,
            "create_runs_per_s": round(runs / create_s, 1), "insert_rows_per_s": round(inserted / insert_s),
            "_ids": ids}


def read_times(home: Path, run_id: str, repeats: int = 3) -> dict:
    store = Store(home)
    list_s, curve_s, parse_s, watch_s = [], [], [], []
    for _ in range(repeats):
        start = time.perf_counter()
        runs = store.list_runs()
        list_s.append(time.perf_counter() - start)
        for run in runs:  # configs are parsed when first read (engine/store/run_record.py)
            run.config  # noqa: B018
        parse_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        store.watched_runs()  # the main window's 2 s status poll
        watch_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        curves = {k: store.metric_series(run_id, k) for k in store.metric_keys(run_id)}
        curve_s.append(time.perf_counter() - start)
    store.close()
    return {"list_runs_ms": round(1000 * min(list_s), 1), "list_runs_median_ms": round(1000 * statistics.median(list_s), 1),
            "list_runs_and_every_config_ms": round(1000 * min(parse_s), 1), "listed": len(runs),
            "status_poll_ms": round(1000 * min(watch_s), 2),
            "one_run_curves_ms": round(1000 * min(curve_s), 1),
            "one_run_curve_points": sum(len(c[0]) for c in curves.values())}


def filter_times(home: Path, where: str, repeats: int = 3) -> dict:
    """The filter language and a group-by over every run (as the runs browser applies them)."""
    from engine.store.run_filter import group_by, select

    with Store(home) as store:
        runs = store.list_runs()
    filter_s, group_s = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        matched = select(runs, where)
        filter_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        groups = group_by(runs, "method", ["loss", "contrastive_acc"])
        group_s.append(time.perf_counter() - start)
    return {"filter": where, "filter_matched": len(matched), "filter_ms": round(1000 * min(filter_s), 1),
            "group_by_method_ms": round(1000 * min(group_s), 1), "groups": len(groups)}


def latency(home: Path, seconds: float, step_ms: float) -> dict:
    """Writer: RunLog.metrics every step; reader: metrics_since at 10 Hz."""
    store = Store(home)
    run_id = store.create_run(_config(0), name="live")
    lease = store.claim_run(run_id, os.getpid(), __import__("socket").gethostname())  # RunLog writes under a lease
    stop = threading.Event()

    def writer():
        log = RunLog(home, run_id, lease)
        step = 0
        while not stop.is_set():
            step += 1
            log.metrics(step, step / 100, {k: 1.0 for k in KEYS})
            time.sleep(step_ms / 1000)
        log.close()

    thread = threading.Thread(target=writer, name="writer")
    thread.start()
    seen, last_id, lags = 0, 0, []
    end = time.time() + seconds
    while time.time() < end:
        rows = store.metrics_since(run_id, last_id)
        now = time.time()
        if rows:
            last_id = rows[-1]["id"]
            lags += [now - r["time"] for r in rows]
            seen += len(rows)
        time.sleep(0.1)
    stop.set()
    thread.join()
    store.close()
    lags.sort()
    return {"latency_steps": seen // len(KEYS), "step_ms": step_ms,
            "latency_median_ms": round(1000 * statistics.median(lags)),
            "latency_p95_ms": round(1000 * lags[int(0.95 * (len(lags) - 1))]),
            "latency_max_ms": round(1000 * lags[-1])}


def _open_browser(app, home: Path, run_id: str, where: str = ""):
    from app.views.runs_view import RunsView

    start, cpu = time.perf_counter(), time.process_time()
    view = RunsView(home)  # lists every run as it is built
    view.resize(1400, 900)
    view.show()
    app.processEvents()
    open_s, open_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    view.select_ids([run_id])
    app.processEvents()
    select_s = time.perf_counter() - start
    rows = view.proxy.rowCount()
    view.table.clearSelection()  # filtering out a selected run redraws the overlay: timed apart
    app.processEvents()
    start = time.perf_counter()
    view.where.setText(where)  # the first filter on parameters parses every run's config
    app.processEvents()
    filter_s, filtered = time.perf_counter() - start, view.proxy.rowCount()
    if hasattr(view, "shutdown"):
        view.shutdown()
    view.close()
    view.deleteLater()  # gone before the next open: a heap of earlier views slows every later one
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del view
    __import__("gc").collect()
    return open_s, select_s, rows, filter_s, filtered, open_cpu


def parallel_coordinates_time(app, home: Path) -> dict:
    """The runs browser's parallel-coordinates window over every run: axes placed, lines drawn, shown."""
    from app.views.parallel_coordinates_dialog import ParallelCoordinatesDialog
    from app.views.runs_view import RunsView
    from engine.sweeps.scaling import evaluation_figures

    view = RunsView(home)
    runs = view.shown_runs()
    start = time.perf_counter()
    dialog = ParallelCoordinatesDialog(runs, list(view.model.metric_columns), evaluation_figures(view.store, runs))
    dialog.show()
    app.processEvents()
    seconds = time.perf_counter() - start
    drawn, axes = dialog.plot.runs_drawn, len(dialog.plot.view.axes)
    dialog.close()
    view.shutdown()
    return {"gui_parallel_coordinates_ms": round(1000 * seconds), "gui_parallel_runs": drawn,
            "gui_parallel_axes": axes}


def gui_times(home: Path, run_id: str, where: str, repeats: int = 3) -> dict:
    """Open the runs browser offscreen on ``home`` and select one run (its curves drawn):
    first in this process (which includes whatever the view loads on first use, e.g. the
    plugin registry and torch), then ``repeats`` times more (the fastest, and the median)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    try:
        from PySide6.QtWidgets import QApplication

        import app.views.runs_view  # noqa: F401
    except ImportError as e:
        return {"gui": f"skipped ({e})"}
    app = QApplication.instance() or QApplication([])
    first_open = _open_browser(app, home, run_id, where)[0]
    again = [_open_browser(app, home, run_id, where) for _ in range(repeats)]
    open_s, select_s, rows, filter_s, filtered, open_cpu = min(again)  # the fastest open

    def ms(xs):
        return [round(1000 * x) for x in xs]
    # CPU time of this process beside the wall time: on a shared machine the difference is waiting
    return {"gui_first_open_ms": round(1000 * first_open), "gui_open_runs_browser_ms": round(1000 * open_s),
            "gui_open_runs_browser_cpu_ms": round(1000 * open_cpu),
            "gui_open_median_ms": round(1000 * statistics.median(a[0] for a in again)),
            "gui_opens_ms": ms(a[0] for a in again), "gui_opens_cpu_ms": ms(a[5] for a in again),
            "gui_rows": rows, "gui_select_run_curves_ms": round(1000 * select_s),
            "gui_filter_ms": round(1000 * filter_s), "gui_filtered_rows": filtered,
            **parallel_coordinates_time(app, home)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=1000)
    p.add_argument("--rows", type=int, default=2_000_000)
    p.add_argument("--batch-rows", type=int, default=1000, help="rows per log_metrics call (one transaction)")
    p.add_argument("--latency-seconds", type=float, default=5.0)
    p.add_argument("--step-ms", type=float, default=20.0, help="writer's time between steps")
    p.add_argument("--no-gui", action="store_true")
    p.add_argument("--where", default="method = simclr and contrastive_acc > 0.04 and seed < 5000",
                   help="the filter timed (engine/store/run_filter.py)")
    p.add_argument("--home", help="empty folder to fill (default: a temporary folder)")
    args = p.parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="pretext-scale-"))
    result = fill(home, args.runs, args.rows, args.batch_rows)
    ids = result.pop("_ids")
    result.update(read_times(home, ids[len(ids) // 2]))
    result.update(filter_times(home, args.where))
    result.update(latency(home, args.latency_seconds, args.step_ms))
    if not args.no_gui:
        result.update(gui_times(home, ids[len(ids) // 2], args.where))
    result["db_mb"] = round(sum(f.stat().st_size for f in home.glob("experiments.db*")) / 2**20, 1)
    result["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
