"""A stand-in executor for queue tests: each "worker" is a ``sleep`` process that owns the run
in the store the way a worker does (claim_run), so slots, liveness and claims are the real ones
without training anything."""
import os
import socket
import subprocess
import sys
import threading
import time

from engine.runs.status import RunStatus
from engine.store.database import Store


class SleepExecutor:
    def __init__(self, home):
        self.home = home
        self.procs: dict[str, subprocess.Popen] = {}
        self.started: list[str] = []
        self.lock = threading.Lock()

    def _sleeper(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])

    def start_training(self, home, run_id, slot):
        proc = self._sleeper()
        with Store(home) as store:
            store.claim_run(run_id, proc.pid, socket.gethostname())
        with self.lock:
            self.procs[run_id] = proc
            self.started.append(run_id)
        return proc.pid

    def start_evaluation(self, home, run_id, slot):
        raise AssertionError("these sweeps have no protocols")

    def holder_alive(self, item):
        from engine.store.liveness import pid_alive

        return item.holder_pid is not None and pid_alive(item.holder_pid)

    def _procs(self) -> list[subprocess.Popen]:
        # Two schedulers' threads start workers while another reaps: iterate a copy.
        with self.lock:
            return list(self.procs.values())

    def reap(self):
        for p in self._procs():
            p.poll()

    def finish(self, run_id, status=RunStatus.COMPLETED):
        """The "worker" ends: writes its end state and exits."""
        with Store(self.home) as store:
            store.update_run(run_id, status=status, ended=time.time())
        with self.lock:
            proc = self.procs[run_id]
        proc.kill()
        proc.wait()

    def kill_all(self):
        for p in self._procs():
            if p.poll() is None:
                p.kill()
                p.wait()


def running(home) -> list[str]:
    with Store(home) as store:
        return sorted(r.id for r in store.list_runs() if r.status == RunStatus.RUNNING)


def pid_of(home, run_id) -> int:
    with Store(home) as store:
        return store.get_run(run_id).pid


def drain(home, executor, seconds: float, stop_workers) -> None:
    """Run a one-slot ``Scheduler`` with the real ``executor`` until its queue is empty or
    ``seconds`` have passed, then close it and stop what is left with ``stop_workers()``."""
    from engine.runs.queue import Scheduler

    scheduler = Scheduler(home, ["cpu/0"], executor)
    deadline = time.time() + seconds
    try:
        scheduler.run(until_empty=True, poll=0.3, should_stop=lambda: time.time() > deadline)
    finally:
        scheduler.close()
        stop_workers()


__all__ = ["SleepExecutor", "drain", "os", "pid_of", "running"]

