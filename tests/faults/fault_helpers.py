"""Shared by tests/faults: tiny configs, real worker processes, the fault plugin, waiting."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLUGIN_SOURCE = Path(__file__).with_name("fault_plugin_source.py")
TINY_SETS = {"train_size": "64", "test_size": "32", "image_size": "16", "width": "8"}


def install_fault_plugin(home: Path) -> None:
    """Copy the fault plugin into ``<home>/plugins/`` where workers discover it."""
    from engine.plugin_trust import trust

    (home / "plugins").mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGIN_SOURCE, home / "plugins" / "fault_injection.py")
    trust(home, home / "plugins" / "fault_injection.py")  # as the user would, once


def tiny_config(method: str = "simclr", epochs: int = 3, sets: dict | None = None, home=None, **train):
    """A tiny shapes/convnet config; ``home`` makes its ``plugins/`` folder known first."""
    from engine import registry
    from engine.training.config import build_config

    registry.discover(home)
    train = {"epochs": epochs, "batch_size": 16, "knn_every": 0, "optimizer": "sgd", "lr": 0.05,
             "device": "cpu", **train}
    return build_config("shapes", method, "convnet", train=train, sets={**TINY_SETS, **(sets or {})})


def slow_run(home: Path, epochs: int = 2, **sets):
    """A run of the fault plugin's ``fault_slow`` method (it sleeps ``step_sleep`` s a step;
    4 steps an epoch with the tiny sets) created in ``home``: (open Store, run id, config)."""
    from engine.store.database import Store

    install_fault_plugin(home)
    config = tiny_config("fault_slow", epochs=epochs, sets=sets, home=home)
    store = Store(home)
    return store, store.create_run(config), config


def worker_env(**extra) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1", **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def start_worker(home: Path, run_id: str, **env) -> subprocess.Popen:
    """A real ``python -m engine.runs.worker`` process, with extra environment variables."""
    from engine.store.database import Store

    proc = subprocess.Popen([sys.executable, "-m", "engine.runs.worker", run_id, "--home", str(home)],
                            cwd=ROOT, env=worker_env(**env), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    store = Store(home)
    store.update_run(run_id, pid=proc.pid, host=os.uname().nodename)  # as spawn_worker does
    store.close()
    return proc


def wait_for(predicate, timeout: float, what: str, every: float = 0.05):
    """Poll ``predicate`` until it returns something truthy; fail naming ``what``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def steps_of(store, run_id: str, key: str = "loss") -> list[int]:
    return store.metric_series(run_id, key)[0]


def assert_same_model(a: dict, b: dict, atol: float = 1e-4) -> None:
    import torch

    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key].float(), b[key].float(), atol=atol), key
