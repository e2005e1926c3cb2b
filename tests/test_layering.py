"""The layering (DESIGN.md, dependency direction): engine/ and plugins/ never import Qt,
pyqtgraph or the app; plugins import the engine only through engine.api and never each
other; the engine never imports plugins. The last three are import-linter contracts in
pyproject.toml, run here on this tree and on a copy that breaks each of them."""
import ast
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import engine

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: import-linter depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("PySide6", "pyqtgraph", "app", "shiboken6")


def _imports(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def test_engine_and_plugins_do_not_import_the_gui():
    bad = []
    for package in ("engine", "plugins"):
        for path in (ROOT / package).rglob("*.py"):
            for name in _imports(path):
                if name.split(".")[0] in FORBIDDEN:
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_the_scan_catches_a_gui_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("from PySide6.QtWidgets import QWidget\nimport pyqtgraph as pg\n")
    assert [n.split(".")[0] for n in _imports(f)] == ["PySide6", "pyqtgraph"]


# --- import-linter contracts (pyproject.toml [tool.importlinter]) -----------------------------
LINT = ("import sys; from importlinter.cli import lint_imports_command; "
        "sys.argv = ['lint-imports', '--no-cache']; lint_imports_command()")


def _lint(root: Path) -> subprocess.CompletedProcess:
    """import-linter over the packages under ``root`` with ``root``'s pyproject.toml, in a fresh
    interpreter whose path starts at ``root`` (so a temporary copy is linted, not this tree)."""
    env = dict(os.environ, PYTHONPATH=str(root))
    return subprocess.run([sys.executable, "-c", LINT], cwd=root, env=env, capture_output=True,
                          text=True, timeout=120)


def _contracts() -> list[dict]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_the_import_contracts_are_kept():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"Contracts: {len(_contracts())} kept, 0 broken." in out.stdout, out.stdout


def test_the_contracts_cover_qt_api_only_independence_and_discovery():
    by_type = {}
    for c in _contracts():
        by_type.setdefault(c["type"], []).append(c)
    assert len(by_type["forbidden"]) == 3 and len(by_type["independence"]) == 1
    through_api = next(c for c in by_type["forbidden"] if c["source_modules"] == ["plugins"])
    engine_modules = {f"engine.{m.name}" for m in pkgutil.iter_modules(engine.__path__)} - {"engine.api"}
    assert set(through_api["forbidden_modules"]) == engine_modules, "a new engine module must be listed"


def test_each_contract_catches_its_violation(tmp_path):
    for name in ("app", "engine", "plugins"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "plugins" / "methods" / "bad.py").write_text(
        "from engine.ssl.heads import mlp_head\nfrom plugins.backbones.vit import ViTTiny\n")
    (tmp_path / "engine" / "bad.py").write_text("import PySide6.QtCore\nimport plugins.methods.simclr\n")
    out = _lint(tmp_path)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"Contracts: 0 kept, {len(_contracts())} broken." in out.stdout, out.stdout
    for line in ("engine.bad -> PySide6 (l.1)", "plugins.methods.bad -> engine.ssl.heads (l.1)",
                 "plugins.methods.bad -> plugins.backbones.vit (l.2)", "engine.bad -> plugins.methods.simclr (l.2)"):
        assert line in out.stdout, line
