"""engine/ and plugins/ never import Qt, pyqtgraph or the app (DESIGN.md, dependency direction)."""
import ast
from pathlib import Path

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
