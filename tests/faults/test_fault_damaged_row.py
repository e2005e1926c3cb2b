"""Guarantee: a damaged run row (issue 19, found 5) is listed as damaged and everything else
keeps working: ``runs``, ``show``, the GUI's runs list; training and resuming it are refused
with one sentence."""
import json

import pytest
from fault_helpers import tiny_config

from engine.cli.commands import main
from engine.store.database import Store

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("config", ["{not json", "{}", "[]", '{"data": 1}'])
def test_a_damaged_config_row_is_listed_as_damaged(home, capsys, config):
    store = Store(home)
    good = store.create_run(tiny_config(epochs=1, home=home), name="good")
    bad = store.create_run(tiny_config(epochs=1, home=home), name="bad")
    store.conn.execute("UPDATE runs SET config = ? WHERE id = ?", (config, bad))  # as a database browser might
    assert main(["runs", "--home", str(home)]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    lines = {line.split()[0]: line for line in out.out.splitlines()[1:]}
    assert " damaged " in lines[bad] and " queued " in lines[good]
    assert main(["runs", "--json", "--home", str(home)]) == 0
    listed = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert listed[bad]["damaged"] and not listed[good]["damaged"]
    assert main(["show", bad, "--home", str(home)]) == 0
    assert "damaged:" in capsys.readouterr().out
    assert main(["resume", bad, "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: run") and "damaged" in err and len(err.splitlines()) == 1, err
    Store(home).delete_run(bad)
    assert [r.id for r in Store(home).list_runs()] == [good]


def test_the_runs_view_lists_a_damaged_row(home, qtbot):
    from app.views.runs_view import RunsView

    store = Store(home)
    store.create_run(tiny_config(epochs=1, home=home), name="good")
    bad = store.create_run(tiny_config(epochs=1, home=home), name="bad")
    store.conn.execute("UPDATE runs SET config = '{}' WHERE id = ?", (bad,))
    view = RunsView(home)
    qtbot.addWidget(view)
    view.refresh()
    assert view.model.rowCount() == 2
