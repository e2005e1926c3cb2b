"""CLI run housekeeping (issue 20): delete, rename and tag, each bad input one sentence and
exit 2, an active run not deleted without --force."""
from __future__ import annotations

import pytest

from engine.cli.commands import main
from engine.store.database import Store
from engine.store.run_tags import format_tags, parse_tags
from tests.app.conftest import tiny_config


@pytest.fixture
def runs(tmp_path):
    with Store(tmp_path) as store:
        a = store.create_run(tiny_config(), "alpha")
        b = store.create_run(tiny_config(), "beta")
        store.update_run(a, status="completed")
        store.update_run(b, status="running", pid=None)
    return tmp_path, a, b


def test_rename_and_tag(runs, capsys):
    home, a, _ = runs
    assert main(["rename", a, "  alpha   two ", "--home", str(home)]) == 0
    assert main(["tag", "alpha two", "--add", "baseline", "sweep-3", "baseline", "--home", str(home)]) == 0
    assert main(["tag", a, "--remove", "sweep-3", "--add", "keep", "--home", str(home)]) == 0
    with Store(home) as store:
        run = store.get_run(a)
    assert run.name == "alpha two" and run.tags == "baseline, keep"
    assert "baseline, keep" in capsys.readouterr().out.splitlines()[-1]


def test_delete_refuses_an_active_run_without_force_and_deletes_nothing(runs, capsys):
    home, a, b = runs
    assert main(["delete", a, b, "--home", str(home)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--force" in err and "Traceback" not in err
    with Store(home) as store:
        assert {r.id for r in store.list_runs()} == {a, b}
    assert main(["delete", a, b, "--force", "--home", str(home)]) == 0
    with Store(home) as store:
        assert store.list_runs() == []


@pytest.mark.parametrize("argv", [["delete", "nosuchrun"], ["rename", "nosuchrun", "x"], ["tag", "nosuchrun"]])
def test_an_unknown_run_is_one_sentence(runs, capsys, argv):
    home, _, _ = runs
    assert main([*argv, "--home", str(home)]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_tags_text_round_trips():
    assert parse_tags(" a, b,,a ") == ["a", "b"] and format_tags(["b", "a", "b"]) == "b, a"
