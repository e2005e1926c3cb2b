"""Run by test_distributed.py under torchrun: ``main.py train`` with a spy on checkpoint writes.

Every checkpoint rank 0 writes appends a line to ``$SPY_OUT``: the checkpoint's step and the
steps whose ``loss`` rows the store already holds at that moment. Time-based flushing is turned
off, the trainer reads every step's metrics at once, and rank 0 asks to stop at step
``$SPY_STOP_AT`` (mid-epoch), so only the trainer's flush
before a checkpoint can put the rows since the last epoch end into the store.
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from engine.cli.commands import main  # noqa: E402
from engine.runs import worker  # noqa: E402
from engine.runs.paths import RunDir  # noqa: E402
from engine.store import run_log  # noqa: E402
from engine.store.database import Store  # noqa: E402
from engine.training import checkpoint, step_metrics  # noqa: E402

run_log.FLUSH_SECONDS = float("inf")
step_metrics.SYNC_SECONDS = 0.0  # every step reported at once, so the stop lands exactly at STOP_AT
STOP_AT = int(os.environ["SPY_STOP_AT"])
_save = checkpoint.save_atomic


def _spy_save(state, path, **kwargs):  # kwargs: the lease's tag for its temp file
    if "step" not in state:  # the final backbone, not a checkpoint
        return _save(state, path, **kwargs)
    store = Store(os.environ["SPY_HOME"])
    try:
        run_id = RunDir.of(Path(path).parents[1]).run_id  # <home>/runs/<id>/checkpoints/last.pt
        steps = [int(r[0]) for r in store.conn.execute(
            "SELECT DISTINCT step FROM metrics WHERE run_id = ? AND key = 'loss' ORDER BY step", (run_id,))]
    finally:
        store.close()
    with open(os.environ["SPY_OUT"], "a") as f:
        f.write(json.dumps({"step": int(state["step"]), "stored": steps}) + "\n")
    return _save(state, path, **kwargs)


def _control(self):
    return "stop" if getattr(self.log, "last_step", 0) >= STOP_AT else ""


checkpoint.save_atomic = _spy_save
worker.WorkerHooks.control = _control

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
