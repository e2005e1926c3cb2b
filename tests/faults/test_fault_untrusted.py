"""Guarantee 7: untrusted files and text. A crafted checkpoint never runs code (resume and
eval fail with one sentence); plugins load only from the entry-point group and
``<home>/plugins/``; search and filters are bound SQL parameters."""
import json
import os
import pickle

import pytest
import torch
from fault_helpers import tiny_config

from engine.cli.commands import main
from engine.store.database import Store

pytestmark = pytest.mark.faults


class _RunsCode:
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def _plant(path, marker) -> None:
    """A 'checkpoint' whose unpickling would create ``marker`` if code ran."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump({"step": 3, "model": _RunsCode(marker)}, f)


def _stopped_run(home) -> tuple:
    store = Store(home)
    run = store.create_run(tiny_config(epochs=1, home=home))
    store.update_run(run, status="stopped", step=3)
    return store, run


@pytest.mark.parametrize("damage", ["crafted pickle", "torch zip holding code", "truncated"])
def test_resume_from_a_crafted_or_damaged_checkpoint_fails_cleanly(home, tmp_path, capsys, damage):
    store, run = _stopped_run(home)
    ckpt, marker = store.run_dir(run).last_checkpoint, tmp_path / "code ran"
    if damage == "crafted pickle":
        _plant(ckpt, marker)
    elif damage == "torch zip holding code":
        torch.save({"step": 3, "model": _RunsCode(marker)}, ckpt)
        assert not marker.exists()
    else:
        torch.save({"step": 3, "model": {"w": torch.zeros(1000)}}, ckpt)
        ckpt.write_bytes(ckpt.read_bytes()[:500])
    assert main(["resume", run, "--home", str(home)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: checkpoint") and "was not loaded" in err[-1], err
    assert not marker.exists(), "no code ran"
    row = Store(home).get_run(run)
    assert row.status == "failed" and "not trusted" in row.error and "\n" not in row.error


@pytest.mark.parametrize("which", ["last_checkpoint", "backbone"])
def test_eval_of_a_crafted_checkpoint_is_refused_in_one_line(home, tmp_path, capsys, which):
    store, run = _stopped_run(home)
    marker = tmp_path / "code ran"
    _plant(getattr(store.run_dir(run), which), marker)
    assert main(["eval", run, "--protocol", "knn", "--device", "cpu", "--home", str(home)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: checkpoint") and "not loaded" in err, err
    assert not marker.exists(), "no code ran"
    assert Store(home).evals(run) == []


def test_plugins_load_only_from_entry_points_and_the_home_plugins_folder(home, tmp_path, capsys, monkeypatch):
    evil = ("from engine.registry import register_method\nfrom plugins.methods.simclr import SimCLR\n"
            "@register_method\nclass Evil(SimCLR):\n    id = '{id}'\n")
    (home / "stray.py").write_text(evil.format(id="stray_in_home"))
    (tmp_path / "cwd").mkdir()
    (tmp_path / "cwd" / "plugin.py").write_text(evil.format(id="stray_in_cwd"))
    (home / "plugins" / "nested").mkdir(parents=True)
    (home / "plugins" / "nested" / "deep.py").write_text(evil.format(id="stray_nested"))
    (home / "plugins" / "notes.txt").write_text(evil.format(id="stray_txt"))
    (home / "plugins" / "mine.py").write_text(evil.format(id="mine"))
    (home / "plugins" / "broken.py").write_text("raise RuntimeError('this plugin is broken')\n")
    monkeypatch.chdir(tmp_path / "cwd")
    for name in ("mine.py", "broken.py"):
        assert main(["plugins", "trust", name, "--home", str(home)]) == 0
    capsys.readouterr()
    assert main(["plugins", "--json", "--home", str(home)]) == 0
    data = json.loads(capsys.readouterr().out)
    ids = {e["id"]: e for kind in ("dataset", "backbone", "method") for e in data[kind]}
    assert "mine" in ids and ids["mine"]["source"] == str(home / "plugins" / "mine.py")
    assert not {"stray_in_home", "stray_in_cwd", "stray_nested", "stray_txt"} & set(ids)
    for entry in ids.values():
        source = entry["source"]
        assert source == "builtin" or source.startswith("entry point ") or \
            source.startswith(str(home / "plugins") + os.sep), f"{entry['id']} came from {source}"
    assert [f for f in data["failures"] if f["source"].endswith("broken.py")][0]["reason"] == \
        "RuntimeError: this plugin is broken"


HOSTILE = ["'", "\"", "' OR '1'='1", "x'; DROP TABLE runs; --", "%", "_", "\\", "simclr' --", "*", ") OR (1=1"]


@pytest.mark.parametrize("text", HOSTILE)
def test_filters_are_bound_parameters(home, capsys, text):
    store = Store(home)
    plain = store.create_run(tiny_config(epochs=1, home=home), name="plain")
    odd_config = {**tiny_config(epochs=1, home=home)}
    odd_config["method"] = {"id": text, "params": {}}
    odd = store.create_run(odd_config, name=f"odd {text}")
    with pytest.raises(ValueError, match="unknown run status"):
        store.update_run(odd, status=text)  # the status column only ever holds a RunStatus
    assert store.list_runs(status=text) == []
    assert [r.id for r in store.list_runs(method=text)] == [odd]
    assert [r.id for r in store.list_runs(status="completed' OR '1'='1")] == []
    assert {r.id for r in store.list_runs(search=text)} <= {plain, odd}
    assert odd in {r.id for r in store.list_runs(search=f"odd {text}")}
    assert main(["runs", "--json", "--search", text, "--home", str(home)]) == 0
    assert odd in [r["id"] for r in json.loads(capsys.readouterr().out)]
    assert len(Store(home).list_runs()) == 2, "both tables and rows are still there"


def test_home_plugins_load_only_with_consent_and_never_take_a_builtin_id(home, capsys):
    """Issue 19, found 4: a new or changed home plugin is listed and skipped in one line until
    trusted; a trusted one cannot replace the built-in simclr."""
    from engine import registry

    marker = home / "code ran"
    plugins = home / "plugins"
    plugins.mkdir(parents=True)
    mine = plugins / "mine.py"
    mine.write_text(f"open({str(marker)!r}, 'w').close()\n")
    assert main(["plugins", "--home", str(home)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"skipped plugin {mine} (not trusted yet); to load it: python main.py plugins trust {mine}"]
    assert not marker.exists(), "no code ran without consent"
    assert main(["plugins", "trust", str(mine), "--home", str(home)]) == 0
    registry._discovered_homes.discard(str(home))
    assert main(["plugins", "--home", str(home)]) == 0
    assert marker.exists() and "skipped" not in capsys.readouterr().err
    mine.write_text("raise SystemExit('edited after it was trusted')\n")
    registry._discovered_homes.discard(str(home))
    assert main(["plugins", "--home", str(home)]) == 0
    assert "changed since it was trusted" in capsys.readouterr().err
    assert main(["plugins", "trust", str(home / "stray.py"), "--home", str(home)]) == 2

    (plugins / "impostor.py").write_text("from engine.registry import register_method\n"
                                         "from plugins.methods.simclr import SimCLR\n"
                                         "@register_method\nclass Impostor(SimCLR):\n    id = 'simclr'\n")
    assert main(["plugins", "trust", "impostor.py", "--home", str(home)]) == 0
    capsys.readouterr()
    registry._discovered_homes.discard(str(home))
    assert main(["plugins", "--json", "--home", str(home)]) == 0
    data = json.loads(capsys.readouterr().out)
    simclr = next(e for e in data["method"] if e["id"] == "simclr")
    assert not simclr["source"].endswith("impostor.py"), "the built-in kept its id"
    assert any(f["source"].endswith("impostor.py") and "already taken" in f["reason"] for f in data["failures"])
