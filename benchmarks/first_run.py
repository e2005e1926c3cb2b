"""The first five minutes: ``python main.py train`` with no options, then its kNN accuracy
against random initialisation of the same backbone on the same data.

    python benchmarks/first_run.py            # the defaults (the quick preset)
    python benchmarks/first_run.py -- --epochs 1 --set train_size=64   # extra train options

Prints the training wall time and the kNN@20 margin over random init; the targets (issue 20)
are under 180 s on a 2-core CPU and a margin of at least 0.15.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS, TARGET_MARGIN = 180.0, 0.15


def _main_py(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args, "--home", str(home)],
                          capture_output=True, text=True, cwd=ROOT)


def first_run(home: Path, extra: list[str]) -> dict:
    start = time.perf_counter()
    train = _main_py("train", *extra, home=home)
    train_s = time.perf_counter() - start
    if train.returncode != 0:
        raise SystemExit(f"error: the training run failed: {train.stderr.strip().splitlines()[-1:]}")
    run_id = json.loads(_main_py("runs", "--json", home=home).stdout)[0]["id"]
    start = time.perf_counter()
    evaluated = _main_py("eval", run_id, "--protocol", "knn", "--baseline", "random", "--json", home=home)
    eval_s = time.perf_counter() - start
    if evaluated.returncode != 0:
        raise SystemExit(f"error: the evaluation failed: {evaluated.stderr.strip().splitlines()[-1:]}")
    rows = json.loads(evaluated.stdout)
    trained = next(r["headline"]["knn@20"] for r in rows if r["run_id"] == run_id)
    random_init = next(r["headline"]["knn@20"] for r in rows if r["run_id"] != run_id)
    return {"train_seconds": round(train_s, 1), "eval_seconds": round(eval_s, 1), "knn20": trained,
            "random_init_knn20": random_init, "margin": round(trained - random_init, 4),
            "cpu_count": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2), "extra": extra}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--home", help="experiment home (default: a new temporary folder)")
    p.add_argument("extra", nargs="*", help="options passed to main.py train (after --)")
    args = p.parse_args(argv)
    home = Path(args.home) if args.home else Path(tempfile.mkdtemp(prefix="pretext-first-run-"))
    result = first_run(home, args.extra)
    print(json.dumps(result))
    ok = result["train_seconds"] < TARGET_SECONDS and result["margin"] >= TARGET_MARGIN
    print(f"first run: trained in {result['train_seconds']} s (eval {result['eval_seconds']} s); kNN@20 "
          f"{result['knn20']:.3f} against random init {result['random_init_knn20']:.3f}: {result['margin']:+.3f} "
          f"(targets: under {TARGET_SECONDS:.0f} s, at least +{TARGET_MARGIN}) -> {'met' if ok else 'NOT met'}; "
          f"load average {result['load_avg_1min']} on {result['cpu_count']} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
