"""Screenshots of every view in the light and dark themes, and two figures: how long the
window takes to appear, and how long a metric takes from the worker to the plot.

    xvfb-run -a -s "-screen 0 1400x900x24" python -m benchmarks.screenshots --out docs

Trains two tiny runs from the New run view in a temporary home; the user's settings and
experiments are not touched. Not a test: it needs a display and takes about a minute."""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

EVAL_PROTOCOLS = ("knn", "linear", "fewshot", "layerwise", "embedding", "retrieval")


def process_start_time() -> float:
    """Wall-clock time this process started (Linux /proc; else now)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return time.time() - uptime + start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.time()


STARTED = process_start_time()
SETTINGS = {
    "data": {"image_size": 32, "train_size": 256, "test_size": 128},
    "backbone": {"width": 16},
    "train": {"epochs": 6, "batch_size": 32, "device": "cpu", "lr": 0.3},
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs")
    parser.add_argument("--home", default="")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="pretext-shots-"))
    home = Path(args.home) if args.home else scratch / "home"

    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, str(scratch / "settings"))
    from app.main import create_window

    app, window = create_window(home)
    shown = {}
    window.first_shown.connect(lambda t: shown.update(at=t, torch="torch" in sys.modules))
    window.resize(1280, 820)
    window.show()

    def wait(condition, timeout=300.0):
        deadline = time.time() + timeout
        while not condition():
            if time.time() > deadline:
                raise TimeoutError("gave up waiting")
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()

    def start() -> str:
        """Press Start and wait for the run to be queued (the store write is off the main thread)."""
        started = []
        view.run_started.connect(started.append)
        view.start()
        wait(lambda: bool(started))
        return started[0]

    def grab(name):
        wait(lambda: True)
        app.processEvents()
        path = out / f"screenshot-{name}.png"
        window.grab().save(str(path))
        print("saved", path)

    wait(lambda: "at" in shown)
    print(f"window shown {shown['at'] - STARTED:.2f} s after the process started "
          f"(torch imported before show: {shown['torch']})")
    wait(lambda: window.new_run.ready)
    print(f"plugins loaded {time.time() - STARTED:.2f} s after the process started")
    view = window.new_run
    view.pickers["method"].set_current("simclr")
    view.pickers["backbone"].set_current("convnet")
    for section, values in SETTINGS.items():
        view.forms[section].set_values(values)
    view.name.setText("simclr-t0.5")
    wait(lambda: view.data_preview.last is not None and view.augment_preview.last is not None)

    first = start()
    monitor = window.monitor
    wait(lambda: monitor.run is not None and monitor.run.status in ("completed", "failed", "crashed"))
    monitor.smoothing.setValue(60)
    latencies = sorted(monitor.latencies)
    print(f"step-to-plot latency over {len(latencies)} metric rows: median {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {latencies[int(0.95 * (len(latencies) - 1))] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    window.runs.refresh()
    window.runs.select_ids([first])
    window.runs.clone()
    view.forms["method"].set_values({"temperature": 0.2})
    view.forms["train"].set_values({"epochs": 3})
    second = start()
    wait(lambda: monitor.run is not None and monitor.run.id == second and monitor.run.status == "completed")
    monitor.show_run(first)
    wait(lambda: monitor.plots["loss"].point_count() > 0)
    window.runs.refresh()
    window.runs.select_ids([first, second])

    evaluate = window.evaluate
    window.tabs.setCurrentWidget(evaluate)
    evaluate.refresh_runs()
    evaluate.setup.check_runs([first, second])
    for pid, check in evaluate.setup.protocol_checks.items():
        check.setChecked(pid in EVAL_PROTOCOLS)
    evaluate.setup.baseline.setChecked(True)
    started = time.time()
    assert evaluate.evaluate(), evaluate.message.text()
    wait(lambda: evaluate.job is None, timeout=900)
    print(f"evaluation ({', '.join(EVAL_PROTOCOLS)}; 2 runs + random baseline) took "
          f"{time.time() - started:.1f} s: {evaluate.message.text()}")
    window.runs.refresh()

    for mode in ("light", "dark"):
        window.set_theme(mode)
        for figure in ("fewshot", "layerwise", "embedding", "retrieval"):
            window.tabs.setCurrentWidget(evaluate)
            evaluate.plots.setCurrentWidget(evaluate.figures[figure])
            grab(f"evaluate-{figure}-{mode}")
        for key, tab in (("new-run", view), ("runs", window.runs), ("monitor", monitor)):
            window.tabs.setCurrentWidget(tab)
            if tab is view:
                view.previews.setCurrentIndex(0)
                grab(f"{key}-{mode}")
                view.previews.setCurrentIndex(1)
                grab(f"augment-{mode}")
            else:
                grab(f"{key}-{mode}")
    window.set_theme("system")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
