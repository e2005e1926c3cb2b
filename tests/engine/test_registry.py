import json
import subprocess
import sys
from pathlib import Path

from engine.params import ParamError

ROOT = Path(__file__).resolve().parents[2]


def test_builtins_registered(registry):
    assert "shapes" in [e.id for e in registry.entries("dataset")]
    assert {"convnet", "resnet18", "resnet50"} <= {e.id for e in registry.entries("backbone")}
    assert "simclr" in [e.id for e in registry.entries("method")]
    for kind in registry.KINDS:
        for e in registry.entries(kind):
            d = e.describe()
            assert d["title"] and d["summary"] and d["citation"], e.id


def test_unknown_plugin_is_a_clear_error(registry):
    import pytest

    with pytest.raises(ParamError, match="unknown method 'nope'"):
        registry.get("method", "nope")


def test_an_unknown_id_names_the_plugins_that_failed_to_load(registry, monkeypatch):
    """A built-in that fails to import (a half-edited file) must not read as merely unknown."""
    import pytest

    monkeypatch.setattr(registry, "_failures", [registry.Failure("plugins.methods.nope", "ImportError: x")])
    with pytest.raises(ParamError, match=r"unknown method 'nope' .*plugins.methods.nope failed to load \(ImportError: x\)"):
        registry.get("method", "nope")


def test_home_plugins_load_and_broken_ones_are_reported(home):
    """A .py file in <home>/plugins registers like a built-in; a broken one is reported and skipped."""
    plugins = home / "plugins"
    plugins.mkdir()
    (plugins / "mydata.py").write_text(
        "import numpy as np\n"
        "from engine.data.dataset import DatasetPlugin, Split\n"
        "from engine.params import Param\n"
        "from engine.registry import register_dataset\n"
        "@register_dataset\n"
        "class Noise(DatasetPlugin):\n"
        "    id = 'noise'; title = 'Noise'; summary = 'random pixels'; citation = 'nobody, 2026'\n"
        "    params = [Param('image_size', 'int', 16, low=8, high=64)]\n"
        "    def build_split(self, name):\n"
        "        rng = np.random.default_rng(0)\n"
        "        return Split(rng.integers(0, 255, (8, 16, 16, 3), dtype=np.uint8), None, [])\n")
    (plugins / "broken.py").write_text("raise RuntimeError('this plugin is broken on purpose')\n")
    from engine.plugin_trust import trust

    trust(home, plugins / "mydata.py")
    trust(home, plugins / "broken.py")
    out = subprocess.run([sys.executable, "main.py", "plugins", "--json", "--home", str(home)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    noise = [d for d in data["dataset"] if d["id"] == "noise"]
    assert noise and noise[0]["source"].endswith("mydata.py")
    assert noise[0]["params"][0]["name"] == "image_size"
    assert any("broken.py" in f["source"] and "broken on purpose" in f["reason"] for f in data["failures"])
    assert any(d["id"] == "simclr" for d in data["method"])  # the rest still loads


def test_builtins_come_through_the_entry_point_group():
    from importlib.metadata import entry_points

    eps = {ep.value for ep in entry_points(group="pretext.plugins")}
    assert "plugins" in eps
