"""A listed Run parses its config when first read (engine/store/run_record.py), and reads like
one built from a dict in every other way."""
import copy
import dataclasses
import pickle

import pytest

from engine.runs.status import RunStatus
from engine.store.database import Store
from engine.store.run_record import Run, reuse_parsed

CFG = {"method": {"id": "simclr", "params": {"temperature": 0.5}}, "backbone": {"id": "convnet", "params": {}},
       "data": {"id": "shapes", "params": {}}, "train": {"epochs": 2, "seed": 7}}


def _listed(home, **fields):
    with Store(home) as store:
        run_id = store.create_run(CFG, name="lazy")
        if fields:
            store.update_run(run_id, **fields)
        (listed,) = store.list_runs()
        return listed, store.get_run(run_id), store


def test_a_listed_run_parses_its_config_only_when_read(home):
    listed, got, _ = _listed(home, status="completed")
    assert "config" not in vars(listed)  # nothing parsed by the listing
    assert listed.name == "lazy" and listed.status is RunStatus.COMPLETED and listed.step == 0
    assert listed.config == CFG and listed.damage == "" and listed.epochs == 2
    assert "config" in vars(listed)  # parsed once, then kept
    assert dataclasses.replace(listed, latest={}) == got
    with pytest.raises(AttributeError):
        listed.no_such_field
    with pytest.raises(dataclasses.FrozenInstanceError):
        listed.config = {}


def test_damage_is_found_when_the_config_is_read(home):
    with Store(home) as store:
        run_id = store.create_run(CFG)
        store.conn.execute("UPDATE runs SET config = '{not json' WHERE id = ?", (run_id,))
        (listed,) = store.list_runs()
    assert listed.damage.startswith("its config is not valid JSON")
    assert listed.config["method"] == {"id": "simclr", "params": {}}  # the skeleton of the row's columns


def test_an_unknown_status_still_damages_a_listed_run(home):
    with Store(home) as store:
        run_id = store.create_run(CFG)
        store.conn.execute("UPDATE runs SET status = 'exploded' WHERE id = ?", (run_id,))
        (listed,) = store.list_runs()
    assert listed.status is RunStatus.FAILED and "unknown run status 'exploded'" in listed.damage


def test_a_refresh_reuses_the_parsed_configs_of_unchanged_runs(home):
    with Store(home) as store:
        a = store.create_run(CFG, name="a")
        store.create_run(CFG, name="b")
        before = store.list_runs()
        for run in before:
            run.config  # noqa: B018 -- read, as the browser reads what it shows
        store.update_run(a, config=__import__("json").dumps(dict(CFG, train={"epochs": 5})))
        after = store.list_runs()
    reuse_parsed(after, before)
    by_name = {r.name: r for r in after}
    assert by_name["b"].config is next(r for r in before if r.name == "b").config  # not parsed again
    assert "config" not in vars(by_name["a"]) and by_name["a"].epochs == 5  # changed: parsed anew


def test_copies_and_pickles_of_a_listed_run_are_whole(home):
    listed, _, _ = _listed(home)
    for other in (copy.copy(listed), copy.deepcopy(listed), pickle.loads(pickle.dumps(listed))):
        assert other == listed and other.config == CFG and isinstance(other, Run)
    assert listed.to_dict()["config"] == CFG and listed.to_dict()["damage"] == ""
