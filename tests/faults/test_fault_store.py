"""Guarantee 4: the store under load loses no row and never says "database is locked"; a
store file that is not one, is damaged, or is from a newer Pretext is refused by the CLI with
one line and exit 2, and never overwritten."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fault_helpers import ROOT, tiny_config, worker_env

from engine.cli.commands import main
from engine.store.database import Store

pytestmark = pytest.mark.faults
LOAD_SECONDS = float(os.environ.get("PRETEXT_FAULT_LOAD_SECONDS", "15"))  # benchmarks/soak.py runs longer
WRITERS, STEPS_PER_SECOND = 3, 100


def test_three_writers_and_a_10_hz_reader_lose_nothing(home):
    store = Store(home)
    config = tiny_config()
    runs = [store.create_run(config, name=f"load-{i}") for i in range(WRITERS)]
    writer = Path(__file__).with_name("store_load_writer.py")
    procs = [subprocess.Popen([sys.executable, str(writer), str(home), run, str(LOAD_SECONDS), str(STEPS_PER_SECOND)],
                              cwd=ROOT, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for run in runs]
    seen = {run: [] for run in runs}
    last_id = dict.fromkeys(runs, 0)
    errors, polls = [], 0
    reader = Store(home)
    try:
        while any(p.poll() is None for p in procs):
            try:
                listed = {r.id: r for r in reader.list_runs()}
                assert all(listed[run].status in ("queued", "running", "completed") for run in runs), listed
                for run in runs:
                    rows = reader.metrics_since(run, last_id[run])
                    if rows:
                        last_id[run] = rows[-1]["id"]
                        seen[run] += [(r["step"], r["key"]) for r in rows]
                polls += 1
            except sqlite3.OperationalError as e:  # "database is locked" would land here
                errors.append(str(e))
            time.sleep(0.1)
        outs = [p.communicate(timeout=60) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert not errors, errors[:3]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outs]
    assert polls >= LOAD_SECONDS * 5, "the reader kept polling throughout"
    for run, (out, _) in zip(runs, outs):
        written = int(out.strip())
        seen[run] += [(r["step"], r["key"]) for r in reader.metrics_since(run, last_id[run])]
        assert len(seen[run]) == written, f"{run}: wrote {written}, the reader saw {len(seen[run])}"
        assert len(set(seen[run])) == written, "no row seen twice"
        stored = reader.conn.execute("SELECT COUNT(*) FROM metrics WHERE run_id = ?", (run,)).fetchone()[0]
        assert stored == written
        assert reader.get_run(run).status == "completed"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _make_newer(home: Path) -> None:
    Store(home).close()
    conn = sqlite3.connect(home / "experiments.db")
    conn.execute("PRAGMA user_version = 99")
    conn.close()


def _make_truncated(home: Path) -> None:
    store = Store(home)
    for i in range(30):
        store.create_run(tiny_config(), name=f"run {i}" * 20)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    db = home / "experiments.db"
    db.write_bytes(db.read_bytes()[:6000])  # keeps the SQLite header, loses most pages


@pytest.mark.parametrize("spoil, fragment", [
    (lambda h: (h / "experiments.db").write_bytes(b"my notes, not a database\n" * 40), "not a Pretext experiment store"),
    (lambda h: (h / "experiments.db").write_bytes(os.urandom(4096)), "not a Pretext experiment store"),
    (_make_newer, "newer than this Pretext"),
    (_make_truncated, "experiments.db"),
])
@pytest.mark.parametrize("command", [["runs"], ["runs", "--json"], ["show", "x"], ["train", "--epochs", "1"]])
def test_cli_refuses_a_bad_store_in_one_line_and_leaves_it_alone(home, capsys, spoil, fragment, command):
    spoil(home)
    before = _digest(home / "experiments.db")
    assert main([*command, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:") and fragment in err, err
    assert _digest(home / "experiments.db") == before, "the file is never overwritten"
