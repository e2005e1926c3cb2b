"""Forms are generated from plugin schemas and check what is typed."""
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLineEdit,
    QPushButton,
)

from app.widgets.number_edit import NumberEdit
from app.widgets.param_form import ParamForm
from engine.params import Param

SCHEMA = [
    Param("width", "int", 16, "channels", 4, 512),
    Param("lr", "float", 0.3, "learning rate", 1e-6, 10.0, log=True),
    Param("momentum", "float", 0.9, "momentum", 0.0, 0.999),
    Param("flip", "bool", True, "random flips"),
    Param("optimizer", "choice", "sgd", "optimizer", choices=("sgd", "adamw")),
    Param("root", "dir", None, "data folder", optional=True),
    Param("splits", "list", "train,test", "splits", choices=("train", "test", "unlabeled")),
]


def test_editors_follow_the_schema(qtbot):
    form = ParamForm(SCHEMA)
    qtbot.addWidget(form)
    e = form.editors
    assert isinstance(e["width"], NumberEdit) and (e["width"].minimum(), e["width"].maximum()) == (4, 512)
    assert isinstance(e["lr"], QLineEdit)  # log-scale floats are typed, not spun
    assert isinstance(e["momentum"], NumberEdit) and e["momentum"].maximum() == 0.999
    assert isinstance(e["flip"], QCheckBox) and e["flip"].isChecked()
    assert isinstance(e["optimizer"], QComboBox) and e["optimizer"].count() == 2
    assert isinstance(e["root"], QLineEdit) and form.findChild(QPushButton, "browse_root") is not None
    assert isinstance(e["splits"], QLineEdit)
    assert form.values() == {"width": 16, "lr": "0.3", "momentum": 0.9, "flip": True, "optimizer": "sgd",
                             "root": "", "splits": "train,test"}
    assert form.field_errors() == {}


def test_set_values_round_trip(qtbot, tmp_path):
    form = ParamForm(SCHEMA)
    qtbot.addWidget(form)
    form.set_values({"width": 64, "lr": 0.05, "flip": False, "optimizer": "adamw", "root": str(tmp_path),
                     "splits": ["test"], "unknown": 1})
    values = form.values()
    assert values["width"] == 64 and float(values["lr"]) == 0.05 and values["flip"] is False
    assert values["optimizer"] == "adamw" and values["root"] == str(tmp_path) and values["splits"] == "test"
    assert form.field_errors() == {}


def test_bad_values_are_marked_on_the_field(qtbot, tmp_path):
    form = ParamForm(SCHEMA)
    qtbot.addWidget(form)
    with qtbot.waitSignal(form.changed):
        form.editors["lr"].setText("fast")
    assert form.editors["lr"].property("invalid") == "true"
    assert "lr must be a number" in form.editors["lr"].toolTip()
    form.editors["root"].setText(str(tmp_path / "missing"))
    form.editors["splits"].setText("train, validation")
    errors = form.field_errors()
    assert set(errors) == {"lr", "root", "splits"}
    assert "does not exist" in errors["root"] and "validation" in errors["splits"]
    form.editors["lr"].setText("1e-3")
    assert form.editors["lr"].property("invalid") == "false"
    assert form.editors["lr"].toolTip() == "learning rate"


def _wheel(widget, up=True):
    pos = QPointF(widget.rect().center())
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, 120 if up else -120),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_changes_only_a_focused_field(qtbot):
    form = ParamForm(SCHEMA)
    qtbot.addWidget(form)
    form.show()
    _wheel(form.editors["width"])
    _wheel(form.editors["optimizer"], up=False)
    assert form.values()["width"] == 16 and form.values()["optimizer"] == "sgd"  # scrolling past
    form.editors["width"].setFocus()
    qtbot.waitUntil(form.editors["width"].hasFocus, timeout=2000)
    _wheel(form.editors["width"])
    assert form.values()["width"] == 17


def test_bad_numbers_are_kept_and_marked_not_replaced(qtbot):
    form = ParamForm(SCHEMA)
    qtbot.addWidget(form)
    width, momentum = form.editors["width"], form.editors["momentum"]
    for text, reason in (("-5", "at least 4"), ("abc", "whole number"), ("", "needs a value"), ("2.5", "whole number")):
        width.setText(text)
        assert width.text() == text and width.property("invalid") == "true", text
        assert reason in form.field_errors()["width"], text
    momentum.setText("1.5")
    assert "at most 0.999" in form.field_errors()["momentum"]
    width.setText("32")
    momentum.setText("0.5")
    assert form.field_errors() == {} and form.values()["width"] == 32 and form.values()["momentum"] == 0.5
    width.setFocus()
    qtbot.keyClick(width, Qt.Key_Up)
    assert form.values()["width"] == 33
