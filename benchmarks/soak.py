"""Soak test: N concurrent tiny runs for M minutes while faults hit random workers
(benchmarks/soak_faults.py: SIGKILL and resume, SIGSTOP/SIGCONT, two concurrent resumes,
pause/resume storms, an outside process holding the write lock), with a reader polling the
store at 10 Hz as the GUI does.

    python benchmarks/soak.py [--runs 3] [--minutes 10] [--fault-every 30] [--faults kill,freeze,...]

Each slot runs real ``python -m engine.runs.worker`` processes (through ``engine.runs.process_control``); a
finished run is replaced by a new one until the time is up, then the remaining runs are
asked to stop. At the end every run's metric curve is checked against its final step: each
per-step key must hold exactly the steps 1..final (no duplicate, no gap), and every epoch
that ran must have its knn_acc row. Prints runs started, killed, resumed, completed, metric
rows expected vs found (lost, duplicated), orphans (a worker process left alive, a run left
active, a run folder without a row) and every error seen (failed runs, "database is locked",
worker tracebacks, reader exceptions). Exit code 0 only when nothing was lost, duplicated or
orphaned and nothing failed.
"""
from __future__ import annotations

import argparse
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.soak_faults import FAULTS, FaultInjector  # noqa: E402
from engine.runs.process_control import request_stop, spawn_worker  # noqa: E402
from engine.store.database import Store  # noqa: E402
from engine.store.liveness import pid_alive as _pid_alive  # noqa: E402

SETS = {"train_size": "256", "test_size": "64", "image_size": "16", "width": "8"}
TRAIN = {"epochs": 12, "batch_size": 32, "knn_every": 4, "device": "cpu"}


class Soak:
    def __init__(self, home: Path, runs: int, seconds: float, fault_every: float, seed: int,
                 faults: tuple[str, ...] = FAULTS):
        from engine import registry
        from engine.training.config import build_config

        registry.discover(home)
        self.home, self.slots, self.seconds, self.fault_every = home, runs, seconds, fault_every
        self.rng = random.Random(seed)
        self.config = build_config("shapes", "simclr", "convnet", train=TRAIN, sets=SETS)
        self.store = Store(home)
        self.procs: dict[str, list] = {}  # run id -> Popens of its live workers
        self.counts = Counter()
        self.errors: list[str] = []
        self.reader_last: dict[str, int] = {}
        self.faults = FaultInjector(home, self.store, self.procs, self.rng, self.counts, self.errors)
        self.faults_on = faults

    # --- steering -------------------------------------------------------------------------------
    def start_run(self) -> None:
        run = self.store.create_run(self.config, name=f"soak-{self.counts['started']}")
        self.procs[run] = [spawn_worker(self.home, run)]
        self.counts["started"] += 1

    def inject(self, tick: float) -> None:
        rate = tick / self.fault_every
        for fault in self.faults_on:
            candidates = self.faults.running()
            if candidates and self.rng.random() < rate:
                getattr(self.faults, fault)(self.rng.choice(candidates))

    def reap(self, launching: bool) -> None:
        for run, procs in list(self.procs.items()):
            procs[:] = [p for p in procs if p.poll() is None]
            if procs:
                continue
            status = self.store.get_run(run).status
            del self.procs[run]
            self.counts[status] += 1
            if status not in ("completed", "stopped"):
                self.errors.append(f"{run}: ended {status}: {self.store.get_run(run).error}")
            if launching:
                self.start_run()

    def read(self) -> None:
        """What the GUI does at 10 Hz: list the runs, fetch new rows incrementally."""
        try:
            for run in self.store.list_runs():
                rows = self.store.metrics_since(run.id, self.reader_last.get(run.id, 0))
                if rows:
                    self.reader_last[run.id] = rows[-1]["id"]
        except sqlite3.Error as e:
            self.errors.append(f"reader: {e}")

    def run(self) -> None:
        for _ in range(self.slots):
            self.start_run()
        end, tick = time.monotonic() + self.seconds, 0.1
        while time.monotonic() < end:
            self.read()
            self.reap(launching=True)
            self.faults.maintain()
            self.inject(tick)
            time.sleep(tick)
        self.faults.finish()
        for run in list(self.procs):
            if self.store.get_run(run).status in ("running", "paused", "queued"):
                request_stop(self.store, run)
        deadline = time.monotonic() + 300
        while self.procs and time.monotonic() < deadline:
            self.read()
            self.reap(launching=False)
            time.sleep(tick)
        for run, procs in self.procs.items():
            for proc in procs:
                self.errors.append(f"{run}: worker {proc.pid} did not stop within 5 minutes")
                proc.kill()

    # --- checking -------------------------------------------------------------------------------
    def check(self) -> tuple[int, int, list[str]]:
        """-> (rows expected, rows found, problems), from each run's final step."""
        expected = found = 0
        problems = []
        conn = self.store.conn
        for run in self.store.list_runs():
            final, rid = run.step, run.id
            steps_per_epoch = int(SETS["train_size"]) // TRAIN["batch_size"]
            step_keys = [r[0] for r in conn.execute(
                "SELECT DISTINCT key FROM metrics WHERE run_id = ? AND step = 1", (rid,))]
            for key in step_keys:
                steps = [r[0] for r in conn.execute(
                    "SELECT step FROM metrics WHERE run_id = ? AND key = ? ORDER BY step", (rid, key))]
                expected += final
                found += len(steps)
                if steps != list(range(1, final + 1)):
                    dup = len(steps) - len(set(steps))
                    missing = len(set(range(1, final + 1)) - set(steps))
                    problems.append(f"{rid} {key}: {dup} duplicate and {missing} missing steps of 1..{final}")
            epochs = final // steps_per_epoch
            want = [e * steps_per_epoch for e in range(1, epochs + 1)
                    if e % TRAIN["knn_every"] == 0 or e == TRAIN["epochs"]]
            got = [r[0] for r in conn.execute(
                "SELECT step FROM metrics WHERE run_id = ? AND key = 'knn_acc' ORDER BY step", (rid,))]
            expected += len(want)
            found += len(got)
            if got != want:
                problems.append(f"{rid} knn_acc: at steps {got}, expected {want}")
        for out in (self.home / "runs").glob("*/worker.out"):
            text = out.read_text(errors="replace")
            for needle in ("database is locked", "Traceback"):
                if needle in text:
                    problems.append(f"{out.parent.name}: worker output contains {needle!r}")
        return expected, found, problems

    def orphans(self) -> list[str]:
        """Workers of this home still alive, runs left active, run folders without a row."""
        out = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                args = cmdline.read_bytes().split(b"\0")
            except OSError:
                continue
            if b"engine.runs.worker" in args and str(self.home).encode() in args:
                out.append(f"worker process {cmdline.parent.name} still alive")
        rows = {r.id: r for r in self.store.list_runs()}
        out += [f"{r.id}: left {r.status}" for r in rows.values() if r.status in ("running", "queued", "paused")]
        out += [f"{d.name}: run folder without a row" for d in (self.home / "runs").iterdir() if d.name not in rows]
        return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="concurrent runs (default 3)")
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to keep them going (default 10)")
    parser.add_argument("--fault-every", type=float, default=30.0,
                        help="mean seconds between two faults of one kind (default 30)")
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"which faults (default all: {','.join(FAULTS)})")
    parser.add_argument("--home", help="experiment home (default: a new temporary folder)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    home = Path(args.home or tempfile.mkdtemp(prefix="pretext-soak-"))
    faults = tuple(f for f in args.faults.split(",") if f)
    if set(faults) - set(FAULTS):
        parser.error(f"unknown faults {sorted(set(faults) - set(FAULTS))}; choose from {', '.join(FAULTS)}")
    soak = Soak(home, args.runs, args.minutes * 60, args.fault_every, args.seed, faults)
    began = time.monotonic()
    try:
        soak.run()
    finally:
        soak.faults.finish()
        for proc in (p for procs in soak.procs.values() for p in procs):  # never leave a worker behind
            if _pid_alive(proc.pid):
                proc.kill()
    expected, found, problems = soak.check()
    orphans = soak.orphans()
    c = soak.counts
    print(f"soak: {args.runs} concurrent runs for {(time.monotonic() - began) / 60:.1f} min in {home}")
    print(f"runs started     {c['started']}")
    for what in ("killed", "resumed", "concurrent resumes", "frozen", "pause storms", "lock holds"):
        print(f"{what:<19}{c[what]}")
    print(f"completed        {c['completed']}")
    print(f"stopped at end   {c['stopped']}")
    print(f"metric rows      expected {expected} (from each run's final step), found {found}")
    duplicated = sum(int(p.split(": ")[1].split()[0]) for p in problems if " duplicate and " in p)
    print(f"lost / duplicated rows   {max(expected - found + duplicated, 0)} / {duplicated}")
    print(f"orphaned         {len(orphans)}")
    tracebacks = sum("Traceback" in p for p in problems)
    print(f"tracebacks       {tracebacks}")
    errors = soak.errors + problems + orphans
    print(f"errors           {len(errors)}")
    for e in errors:
        print(f"  {e}")
    return 0 if not errors and expected == found else 1


if __name__ == "__main__":
    sys.exit(main())
