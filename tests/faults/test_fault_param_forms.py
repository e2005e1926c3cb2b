"""Guarantee 6, GUI side: whatever a person types or picks in a parameter form built from any
plugin's schema, the form reports it field by field or the engine accepts it; what the form
calls valid, ``engine.params.resolve`` accepts (no traceback, no surprise at Start)."""
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("PySide6")
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit  # noqa: E402

from app.widgets.number_edit import NumberEdit  # noqa: E402
from app.widgets.param_form import ParamForm  # noqa: E402
from engine import registry  # noqa: E402
from engine.params import ParamError, resolve  # noqa: E402
from engine.training.config import TRAIN_PARAMS  # noqa: E402

pytestmark = pytest.mark.faults
registry.discover()
SCHEMAS = [("train", TRAIN_PARAMS)] + [(f"{k} {e.id}", e.schema) for k in registry.KINDS for e in registry.entries(k)]
TYPED = st.one_of(st.text(max_size=16), st.sampled_from(["nan", "inf", "-1e309", "1e-400", " 0.5 ", "", "1,2,,3",
                                                         "'; DROP TABLE runs; --", "ünï", "/no/such/dir", "."]))


def _act(editor, data) -> None:
    """One thing a person can do to an editor."""
    if isinstance(editor, NumberEdit) and data.draw(st.booleans()):
        editor.setValue(data.draw(st.integers(-2**31, 2**31 - 1) if editor.integer
                                  else st.floats(allow_nan=False, allow_infinity=True)))
    elif isinstance(editor, QCheckBox):
        editor.setChecked(data.draw(st.booleans()))
    elif isinstance(editor, QComboBox):
        editor.setCurrentIndex(data.draw(st.integers(-1, editor.count())))
    elif isinstance(editor, QLineEdit):
        editor.setText(data.draw(TYPED))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(SCHEMAS), data=st.data())
def test_whatever_is_typed_is_marked_or_accepted(qtbot, which, data):
    _, schema = which
    form = ParamForm(schema)
    qtbot.addWidget(form)
    for editor in form.editors.values():
        if data.draw(st.booleans()):
            _act(editor, data)
    errors = form.field_errors()
    assert all(isinstance(m, str) and m and "\n" not in m for m in errors.values())
    try:
        values = resolve(schema, form.values())
    except ParamError as e:
        assert errors, f"the form showed no error but the engine refused: {e}"
        return
    assert not errors, f"the form marked {errors} but the engine accepted"
    for p in schema:
        if p.kind in ("int", "float") and values[p.name] is not None:
            assert math.isfinite(values[p.name])


@pytest.mark.parametrize("which", SCHEMAS, ids=[name for name, _ in SCHEMAS])
def test_defaults_round_trip_through_a_form(qtbot, which):
    """A stored config (the schema's defaults, as the engine resolved them) fills a form that
    gives the same values back."""
    _, schema = which
    form = ParamForm(schema)
    qtbot.addWidget(form)
    stored = {p.name: p.default for p in schema if p.default is not None}
    form.set_values(stored)
    if not [p for p in schema if p.default is None and not p.optional]:
        assert resolve(schema, form.values()) == resolve(schema, stored)
