"""The faults benchmarks/soak.py injects into live runs, one kind per method (issue 19):
SIGKILL and resume, SIGSTOP/SIGCONT, two resumes of one run at once, pause/resume storms and
an outside process holding the store's write lock.

Each injection checks what must hold at once (a killed worker reads as crashed, a frozen one
never does, a storm ending in "go on" leaves the run going, a lock is waited out) and records
what it saw in ``counts`` and ``errors``; the soak's final check counts rows lost,
duplicated and orphaned.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import Counter

from engine.runs.process_control import prepare_resume, request_pause, spawn_worker
from engine.runs.status import RunStatus
from engine.store.database import Store, StoreError

FAULTS = ("kill", "freeze", "double_resume", "pause_storm", "lock")


class FaultInjector:
    """``procs``: run id -> its live worker processes (Popen), shared with the soak loop."""

    def __init__(self, home, store: Store, procs: dict, rng, counts: Counter, errors: list):
        self.home, self.store, self.procs, self.rng = home, store, procs, rng
        self.counts, self.errors = counts, errors
        self.frozen: dict[int, float] = {}  # pid -> when to SIGCONT it
        self.storms: dict[str, float] = {}  # run id -> when it must be going again
        self.lock_thread: threading.Thread | None = None

    def running(self) -> list[str]:
        out = []
        for run, procs in self.procs.items():
            row = self.store.get_run(run, check_liveness=False)
            if row.status == RunStatus.RUNNING and row.step and procs and procs[-1].pid not in self.frozen:
                out.append(run)
        return out

    def maintain(self) -> None:
        """Thaw the frozen workers that are due and check the runs hit by pause storms."""
        self._thaw()
        self._check_storms()

    # --- the faults -----------------------------------------------------------------------------
    def kill(self, run: str) -> None:
        proc = self.procs[run][-1]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self.counts["killed"] += 1
        status = Store(self.home).get_run(run).status  # a fresh reader must see it at once
        if status != RunStatus.CRASHED:
            self.errors.append(f"{run}: killed worker shows as {status}, not crashed")
        self._resume(run)

    def freeze(self, run: str) -> None:
        """SIGSTOP for 2-8 s (longer than a few heartbeats): alive, so never crashed."""
        pid = self.procs[run][-1].pid
        os.kill(pid, signal.SIGSTOP)
        self.frozen[pid] = time.monotonic() + self.rng.uniform(2, 8)
        self.counts["frozen"] += 1

    def double_resume(self, run: str) -> None:
        """Kill, then two resumes of the run at once from two connections: one wins the lease."""
        proc = self.procs[run][-1]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        self.counts["killed"] += 1
        results: list = []
        threads = [threading.Thread(target=self._resume_from_new_store, args=(run, results)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [r for r in results if not isinstance(r, Exception)]
        if len(won) != 1:
            self.errors.append(f"{run}: two concurrent resumes gave {len(won)} winners ({results})")
        self.counts["concurrent resumes"] += 1

    def pause_storm(self, run: str) -> None:
        """10 pause/go-on requests in a row, ending with go on: the run must be going within 30 s."""
        for i in range(10):
            try:
                request_pause(self.store, run, pause=i % 2 == 0)
            except StoreError:
                pass  # it had not yet moved to the state the request starts from
        try:
            request_pause(self.store, run, pause=False)
        except StoreError:
            pass
        self.storms[run] = time.monotonic() + 30
        self.counts["pause storms"] += 1

    def lock(self, run: str) -> None:
        """An outside connection holds the write lock for 1-5 s; writers must wait it out."""
        if self.lock_thread is not None and self.lock_thread.is_alive():
            return
        hold = self.rng.uniform(1, 5)

        def holder():
            conn = sqlite3.connect(self.store.path, timeout=60, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                time.sleep(hold)
                conn.execute("COMMIT")
            finally:
                conn.close()

        self.lock_thread = threading.Thread(target=holder, daemon=True)
        self.lock_thread.start()
        self.counts["lock holds"] += 1

    # --- helpers --------------------------------------------------------------------------------
    def _resume(self, run: str) -> None:
        # killed in its first epoch: no checkpoint yet, so it is resumed as a fresh start
        fresh = not self.store.run_dir(run).last_checkpoint.exists()
        if prepare_resume(self.store, run, fresh=fresh) is not None:
            self.procs[run].append(spawn_worker(self.home, run))
            self.counts["resumed"] += 1

    def _resume_from_new_store(self, run: str, results: list) -> None:
        store = Store(self.home)
        try:
            fresh = not store.run_dir(run).last_checkpoint.exists()
            if prepare_resume(store, run, fresh=fresh) is not None:
                self.procs[run].append(spawn_worker(self.home, run))
                self.counts["resumed"] += 1
            results.append(run)
        except StoreError as e:  # the other resume won: "already queued/running"
            results.append(e)
        finally:
            store.close()

    def _thaw(self, all_now: bool = False) -> None:
        now = time.monotonic()
        for pid, when in list(self.frozen.items()):
            if not all_now and when > now:
                continue
            status = {r: self.store.get_run(r).status for r, ps in self.procs.items() if any(p.pid == pid for p in ps)}
            for run, s in status.items():
                if s == RunStatus.CRASHED:
                    self.errors.append(f"{run}: frozen (SIGSTOP) worker shows as crashed while alive")
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            del self.frozen[pid]

    def _check_storms(self) -> None:
        now = time.monotonic()
        for run, due in list(self.storms.items()):
            status = self.store.get_run(run).status
            if status != RunStatus.PAUSED:
                del self.storms[run]
            elif now > due:
                self.errors.append(f"{run}: still paused 30 s after a pause storm that ended with go on")
                del self.storms[run]

    def finish(self) -> None:
        """Let every frozen worker go and the lock holder end, before the soak stops its runs."""
        self._thaw(all_now=True)
        if self.lock_thread is not None:
            self.lock_thread.join()
