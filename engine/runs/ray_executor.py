"""The run queue's Ray executor (an optional extra: ``pip install ray``;
``python main.py queue run --executor ray --address auto``).

Each run trains as one Ray task on the cluster; the scheduler process is the driver and the
run's owner in the store: it takes the run's lease, and its pid is the run's (so a driver that
dies leaves the run ``crashed``, as a dead worker would). The task never opens the experiment
store -- SQLite over a network filesystem is not safe (DESIGN.md, "Process model"): it sends
metric rows, log lines and run fields back through a Ray queue, which the driver writes with
the lease on every scheduler tick (its heartbeat too), and it returns the final backbone's
bytes, which the driver saves as the run's artifact. Stop and pause requests (``runs.control``) travel
the other way through a second queue. The task trains in a temporary folder of its node
(built-in plugins only) and sends every checkpoint it saves (each epoch, pause and stop) to
the driver, which keeps it as the run's ``last.pt``; a resumed run's task is given that file
and goes on from its step, wherever it runs, so a stopped run or one whose node was lost
(``crashed``) loses at most the epoch in progress. Evaluations of finished runs run on the desktop, where the store and the checkpoints are
(``LocalExecutor``).
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.params import ParamError
from engine.runs.executor import LocalExecutor
from engine.runs.queue_stage import QueueStage
from engine.runs.slots import slot_device
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError
from engine.store.lease import Lease, LeaseLost
from engine.store.queue_table import QueueItem
from engine.training.checkpoint import save_bytes_atomic

CONTROL_SECONDS = 0.25


class QueueHooks:
    """TrainerHooks inside the Ray task: everything goes to the driver through ``events``."""

    def __init__(self, events, commands, log_every: int = 1):
        self.events, self.commands, self.log_every = events, commands, max(1, int(log_every))
        self.rows: list[tuple] = []
        self.value, self.read_at, self.last_step = "", 0.0, 0

    def on_step(self, step, total, epoch, metrics):
        if step % self.log_every == 0 or float(epoch).is_integer() or step == total:
            now = time.time()
            self.rows += [(step, epoch, now, k, float(v)) for k, v in metrics.items()]
            self.last_step = step
            if len(self.rows) > 500:
                self.flush()

    def on_epoch(self, epoch, metrics):
        if metrics:
            self.rows += [(self.last_step, float(epoch), time.time(), k, float(v)) for k, v in metrics.items()]
        self.flush()

    def control(self) -> str:
        if time.monotonic() - self.read_at >= CONTROL_SECONDS:
            self.read_at = time.monotonic()
            while not self.commands.empty():
                self.value = self.commands.get_nowait()
            self.flush()
        return self.value

    def text(self, message):
        self.events.put(("text", str(message)))

    def flush(self):
        if self.rows:
            self.events.put(("metrics", (self.rows, self.last_step)))
            self.rows = []


def train_task(config: dict, events, commands, checkpoint: bytes | None = None) -> dict:
    """The body of the Ray task: train ``config`` in a temporary folder, from ``checkpoint`` (the
    run's last.pt, on a resume) when given; the outcome and the final backbone's bytes."""
    import shutil
    import tempfile

    from engine import registry
    from engine.runs.paths import RunDir
    from engine.training.trainer import Trainer

    registry.discover()
    folder = Path(tempfile.mkdtemp(prefix="pretext-ray-"))
    try:
        hooks = QueueHooks(events, commands, config["train"].get("log_every", 1))
        run_dir = RunDir(folder / "run").create()
        trainer = Trainer(config, run_dir, folder / "cache", hooks)
        if checkpoint is not None:
            run_dir.last_checkpoint.parent.mkdir(parents=True, exist_ok=True)
            run_dir.last_checkpoint.write_bytes(checkpoint)
            trainer.load_checkpoint(run_dir.last_checkpoint)
        events.put(("from_step", trainer.step))  # rows after it are the earlier attempt's: replayed
        trainer.after_checkpoint = lambda path: events.put(("checkpoint", path.read_bytes()))
        events.put(("update", {"device": f"{trainer.device} on {socket.gethostname()} (ray)",
                               "total_steps": trainer.total_steps}))
        outcome = trainer.run()
        hooks.flush()
        out = {"status": outcome.status.value, "step": outcome.step}
        if outcome.status == RunStatus.COMPLETED:
            out["backbone"] = Path(trainer.save_backbone()).read_bytes()
        return out
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class RemoteRun:
    """A run training on the cluster, as the driver follows it."""
    home: Path
    run_id: str
    lease: Lease
    ref: object
    events: object
    commands: object
    sent_control: str = ""
    store: Store = field(default=None)

    def pump(self, ray) -> bool:
        """Write what the task sent; forward a stop; finish the run when the task ended. Whether it ended."""
        try:
            self._drain()
            control = self.store.get_control(self.run_id, self.lease)
            if control != self.sent_control:
                self.commands.put(control)
                self.sent_control = control
            self.store.update_run(self.run_id, lease=self.lease, heartbeat=time.time())
            ready, _ = ray.wait([self.ref], timeout=0)
            if not ready:
                return False
            self._finish(ray)
        except LeaseLost:  # deleted or taken over: the task's results have no run to go to
            ray.cancel(self.ref, force=True)
        except (OSError, StoreError) as e:  # the desktop could not store what came (a full disk): end
            ray.cancel(self.ref, force=True)  # the task rather than the scheduler, and say why
            self._fail(e)
        self.store.close()
        return True

    def _fail(self, exc: Exception) -> None:
        from engine.runs.worker import explain

        try:
            self.store.update_run(self.run_id, lease=self.lease, status=RunStatus.FAILED, ended=time.time(),
                                  error=explain(exc)[:500], control="")
        except (OSError, StoreError):
            pass  # the store itself cannot be written: the run's stale heartbeat will read as crashed

    def _drain(self) -> None:
        while not self.events.empty():
            kind, payload = self.events.get_nowait()
            if kind == "from_step":  # rows after the checkpoint (all, without one) are replayed by the task
                self.store.truncate_metrics(self.run_id, payload, lease=self.lease)
                self.store.update_run(self.run_id, lease=self.lease, step=payload)
                if payload:
                    self._log(f"resumed from step {payload}")
            elif kind == "checkpoint":
                with self.store.transaction(self.lease):  # LeaseLost: not ours to write any more
                    save_bytes_atomic(payload, self.store.run_dir(self.run_id).last_checkpoint, tag=self.lease.tag)
            elif kind == "metrics":
                rows, step = payload
                self.store.log_metrics(self.run_id, rows, lease=self.lease)
                self.store.update_run(self.run_id, lease=self.lease, step=step)
            elif kind == "update":
                self.store.update_run(self.run_id, lease=self.lease, **payload)
            elif kind == "text":
                self._log(payload)

    def _log(self, line: str) -> None:
        with open(self.store.run_dir(self.run_id).log, "a", encoding="utf-8") as f:
            f.write(time.strftime("%H:%M:%S ") + line.rstrip() + "\n")

    def _finish(self, ray) -> None:
        try:
            out = ray.get(self.ref)
        except Exception as e:  # noqa: BLE001 -- the task's error, as one line
            self._drain()
            lost = isinstance(e, ray.exceptions.RayError) and not isinstance(e, ray.exceptions.RayTaskError)
            cause = getattr(e, "cause", None) or e
            text = f"{type(cause).__name__}: {str(cause).splitlines()[0] if str(cause) else ''}"[:300]
            if lost:  # the worker process or its node died: the run is resumable, as a dead worker's is
                status, error = RunStatus.CRASHED, (f"the Ray worker or node training it was lost ({text}); "
                                                    "resume it to go on from its last checkpoint")
            else:
                status, error = RunStatus.FAILED, text
            self.store.update_run(self.run_id, lease=self.lease, status=status, ended=time.time(),
                                  error=error[:500], control="")
            return
        self._drain()
        status = RunStatus(out["status"])
        if "backbone" in out:
            path = self.store.run_dir(self.run_id).backbone
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(out["backbone"])
            self.store.add_artifact(self.run_id, "backbone", str(path), out["step"], lease=self.lease)
        self.store.update_run(self.run_id, lease=self.lease, status=status, ended=time.time(), step=out["step"],
                              control="")


class RayExecutor:
    def __init__(self, address: str = "auto", **init):
        try:
            import ray
        except ImportError:
            raise ParamError("--executor ray needs Ray: pip install ray") from None
        if not ray.is_initialized():
            try:
                ray.init(address=None if address == "local" else address, log_to_driver=False,
                         include_dashboard=False, **init)
            except (ConnectionError, RuntimeError) as e:
                raise ParamError(f"no Ray cluster at {address!r} ({str(e).splitlines()[0][:120]}); "
                                 "start one with: ray start --head") from None
        self.ray = ray
        self.remote = ray.remote(train_task)
        self.local = LocalExecutor()
        self.runs: dict[str, RemoteRun] = {}

    def start_training(self, home: Path, run_id: str, slot: str) -> int:
        from ray.util.queue import Queue

        store = Store(home)
        try:
            run = store.get_run(run_id)
            run.check_usable()
            lease = store.claim_run(run_id, os.getpid(), socket.gethostname())
        except StoreError:
            store.close()
            raise
        gpus = 1 if slot_device(slot).startswith("cuda") else 0
        events, commands = Queue(), Queue()
        saved = store.run_dir(run_id).last_checkpoint
        resume_from = saved.read_bytes() if saved.exists() else None
        # max_retries=0: Ray would rerun a crashed task from the checkpoint it was given at the
        # start, replaying rows the driver already stored; the run ends crashed and resumes instead
        ref = self.remote.options(num_cpus=1, num_gpus=gpus, max_retries=0).remote(
            run.config, events, commands, resume_from)
        self.runs[run_id] = RemoteRun(Path(home), run_id, lease, ref, events, commands, store=store)
        return os.getpid()  # the driver holds the slot while the task runs

    def start_evaluation(self, home: Path, run_id: str, slot: str) -> int:
        return self.local.start_evaluation(home, run_id, slot)

    def holder_alive(self, item: QueueItem) -> bool:
        if item.stage == QueueStage.TRAIN:
            return item.run_id in self.runs
        return self.local.holder_alive(item)

    def reap(self) -> None:
        self.local.reap()
        for run_id, remote in list(self.runs.items()):
            if remote.pump(self.ray):
                del self.runs[run_id]
