"""A plugin written from the README's "Writing a plugin" against engine/api.py alone trains:
the block is extracted verbatim, dropped into <home>/plugins/, and a run of its method on its
backbone completes through the ordinary CLI."""
import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_plugin() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Writing a plugin", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_readme_plugin_imports_pretext_only_through_engine_api():
    modules = []
    for node in ast.walk(ast.parse(readme_plugin())):
        if isinstance(node, ast.ImportFrom):
            modules.append(node.module)
        elif isinstance(node, ast.Import):
            modules += [a.name for a in node.names]
    project = [m for m in modules if m.split(".")[0] in ("engine", "plugins", "app")]
    assert project == ["engine.api"]


def test_the_readme_plugin_trains(home):
    (home / "plugins").mkdir()
    (home / "plugins" / "readme_plugin.py").write_text(readme_plugin(), encoding="utf-8")
    env = dict(os.environ, OMP_NUM_THREADS="1")

    def cli(*args):
        return subprocess.run([sys.executable, "main.py", *args, "--home", str(home)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)

    assert cli("plugins", "trust", "readme_plugin.py").returncode == 0  # home plugins load once trusted
    plugins = json.loads(cli("plugins", "--json").stdout)
    assert {"my_method", "tiny_cnn"} <= {p["id"] for kind in ("method", "backbone") for p in plugins[kind]}
    out = cli("train", "--method", "my_method", "--backbone", "tiny_cnn", "--epochs", "1", "--batch-size", "16",
              "--set", "train_size=32", "--set", "test_size=16", "--set", "image_size=16", "--set", "width=4")
    assert out.returncode == 0, out.stderr
    run_id = out.stdout.split()[0]
    show = json.loads(cli("show", run_id, "--json").stdout)
    assert show["status"] == "completed" and show["step"] == 2, show
    assert "contrastive_acc" in show["latest"] and show["latest"]["loss"] > 0
