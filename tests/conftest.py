import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

TINY_SETS = {"train_size": "96", "test_size": "48", "image_size": "16", "width": "8"}


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A temporary experiment home, also exported as PRETEXT_HOME for subprocesses."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("PRETEXT_HOME", str(h))
    return h


@pytest.fixture(scope="session")
def registry():
    from engine import registry as reg

    reg.discover()
    return reg
