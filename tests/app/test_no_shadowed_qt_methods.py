"""No widget stores an attribute under the name of a QWidget method: ScalingView kept its
metric combo box as ``self.metric``, which hides ``QWidget.metric()``, the virtual Qt calls
to measure a paint device, so grabbing or printing the view failed and crashed."""
import ast
from pathlib import Path

from PySide6.QtWidgets import QWidget

APP = Path(__file__).resolve().parents[2] / "app"
NOT_WIDGETS = {"QObject", "QThread", "QRunnable", "QAbstractTableModel", "QAbstractItemModel",
               "QSortFilterProxyModel", "QStyledItemDelegate", "QSyntaxHighlighter"}


def _widget_classes(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
            if any(b.startswith("Q") for b in bases) and not bases & NOT_WIDGETS:
                yield node


def test_widgets_do_not_shadow_qwidget_methods():
    qt_names = set(dir(QWidget))
    found = []
    for path in APP.rglob("*.py"):
        for cls in _widget_classes(ast.parse(path.read_text())):
            for node in ast.walk(cls):
                if (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store)
                        and isinstance(node.value, ast.Name) and node.value.id == "self" and node.attr in qt_names):
                    found.append(f"{path.relative_to(APP.parent)}:{node.lineno} {cls.name}.{node.attr}")
    assert not found, found


def test_the_scaling_view_can_be_grabbed(qtbot, tmp_path):
    from app.views.scaling_view import ScalingView

    view = ScalingView(tmp_path)
    qtbot.addWidget(view)
    view.resize(600, 400)
    assert not view.grab().isNull()
    view.shutdown()
