"""Sweep expansion (engine/sweeps): grid and zip, validation before anything is stored, study
presets, and the ``sweep`` command's one-sentence errors."""
import pytest

from engine.cli.commands import main
from engine.params import ParamError
from engine.store.database import Store
from engine.store.sweep_record import create_sweep, get_sweep, list_sweeps, sweep_runs
from engine.sweeps.axes import Combine, combinations, count, make_axis, parse_axis
from engine.sweeps.spec import SweepSpec, normalize, plan
from engine.sweeps.studies import STUDIES

TINY = {"test_size": "32", "width": "8", "epochs": "1", "batch_size": "16", "knn_every": "0"}


def test_grid_and_zip_combinations():
    a, b = parse_axis("data.train_size=500,1000,2000"), parse_axis("seed=0,1")
    assert b.key == "train.seed"  # a bare seed on an axis is the training seed
    grid = combinations([a, b])
    assert len(grid) == count([a, b]) == 6
    assert grid[0] == {"data.train_size": "500", "train.seed": "0"} and grid[1]["train.seed"] == "1"
    zipped = combinations([a, make_axis("method.permutations", [10, 20, 30])], Combine.ZIP)
    assert [z["method.permutations"] for z in zipped] == [10, 20, 30] and count([a, a], Combine.ZIP) == 3
    with pytest.raises(ParamError, match="same number of values"):
        combinations([a, b], Combine.ZIP)
    with pytest.raises(ParamError, match="given twice"):
        combinations([a, a])
    for bad in ("permutations", "=1,2", "seed=", "seed=1,1"):
        with pytest.raises(ParamError):
            parse_axis(bad)


def test_plan_validates_and_types_every_run(registry):
    spec = SweepSpec("jigsaw", sets=TINY, axes=(parse_axis("data.train_size=64,128"), parse_axis("permutations=10,30")))
    runs = plan(spec)
    assert len(runs) == spec.run_count == 4
    assert runs[-1].axis_values == {"data.train_size": 128, "method.permutations": 30}
    assert runs[-1].config["data"]["params"]["train_size"] == 128
    assert runs[-1].config["method"]["params"]["permutations"] == 30
    assert runs[0].config["train"]["epochs"] == 1
    plugin_axis = plan(SweepSpec("rotation", sets={k: v for k, v in TINY.items() if k != "width"}, axes=(make_axis("backbone", ["convnet", "resnet18"]),)))
    assert [r.config["backbone"]["id"] for r in plugin_axis] == ["convnet", "resnet18"]


@pytest.mark.parametrize("axis, fragment", [
    ("data.size=500,1000", "data.size=500 is invalid: unknown parameter 'size'"),
    ("permutations=100,5", "permutations=5 is invalid: method jigsaw: permutations must be at least 10"),
    ("lr=fast", "lr must be a number"),
    ("nosuch=1", "unknown parameter 'nosuch'"),
])
def test_an_invalid_combination_stores_nothing(home, registry, axis, fragment):
    with pytest.raises(ParamError, match=fragment):
        plan(SweepSpec("jigsaw", sets=TINY, axes=(parse_axis("seed=0,1"), parse_axis(axis))))
    assert main(["sweep", "create", "--home", str(home), "--method", "jigsaw", "--axis", "seed=0,1",
                 "--axis", axis]) == 2
    with Store(home) as store:
        assert list_sweeps(store) == [] and store.list_runs() == []


def test_unknown_protocol_is_refused(registry):
    with pytest.raises(ParamError, match="unknown protocol 'nope'"):
        plan(SweepSpec("jigsaw", sets=TINY, axes=(parse_axis("seed=0,1"),), protocols=("nope",)))


def test_sweep_is_stored_with_its_runs_and_axis_values(home, registry):
    spec = SweepSpec("jigsaw", sets=TINY, axes=(parse_axis("data.train_size=64,128"), parse_axis("seed=0,1")))
    with Store(home) as store:
        sweep_id = create_sweep(store, spec, plan(spec))
        sweep = get_sweep(store, sweep_id)
        runs = sweep_runs(store, sweep_id)
    assert sweep.runs == 4 and sweep.spec == normalize(spec) and sweep.protocols == ("svm", "knn")
    assert [r.status for r in runs] == ["queued"] * 4 and {r.sweep_id for r in runs} == {sweep_id}
    assert runs[1].axis_values == {"data.train_size": 64, "train.seed": 1}
    assert runs[1].config["train"]["seed"] == 1


def test_a_data_axis_is_evaluated_on_one_labeled_set(home, registry, monkeypatch):
    """Goyal et al. (2019) keep the SVM's labeled set fixed while the pre-training data grows:
    every point of a data axis (and the reference) is evaluated on the base data; other axes
    evaluate each run on its own data."""
    from engine.evaluation import evaluate as evaluate_module
    from engine.store.sweep_record import Sweep
    from engine.sweeps import auto_eval
    from engine.sweeps.spec import evaluation_data

    data_axis = normalize(SweepSpec("rotation", sets={"train_size": "300"}, axes=(parse_axis("train_size=100,200"),)))
    assert evaluation_data(data_axis) == {"id": "shapes", "params": plan(data_axis)[0].config["data"]["params"]
                                          | {"train_size": 300}}
    assert evaluation_data(normalize(SweepSpec("rotation", axes=(parse_axis("seed=0,1"),)))) is None
    seen = []
    monkeypatch.setattr(evaluate_module, "evaluate", lambda home, run, protocol, params=None, data=None:
                        seen.append(data) or {"headline": {}})
    sweep = Sweep(id=1, name="s", created=0.0, status="active", method="rotation", spec=data_axis, concurrency=0,
                  reference="", runs=2)
    assert auto_eval._evaluate_all(home, "run", sweep, set()) == []
    assert seen and all(d["params"]["train_size"] == 300 for d in seen)


def test_studies_expand_on_the_builtin_data(registry):
    for study in STUDIES.values():
        runs = plan(study.spec(sets=TINY))
        assert len(runs) == study.spec().run_count >= 9
    values = {r.axis_values["method.permutations"] for r in plan(STUDIES["jigsaw-complexity"].spec(sets=TINY))}
    assert values == {10, 30, 100, 300, 1000}


def test_sweep_cli(home, registry, capsys):
    args = ["--home", str(home)]
    assert main(["sweep", "create", *args, "--method", "jigsaw", "--axis", "seed=0,1,2", "--set", "epochs=1"]) == 0
    assert "sweep 1: 3 runs queued" in capsys.readouterr().out
    assert main(["sweep", "create", *args, "--study", "colorization-complexity", "--set", "epochs=1"]) == 0
    assert main(["sweep", "list", *args]) == 0
    out = capsys.readouterr().out
    assert "colorization: complexity axis" in out and "12 runs" in out
    assert main(["sweep", "show", *args, "1"]) == 0 and "train.seed=2" in capsys.readouterr().out
    assert main(["sweep", "pause", "1", *args]) == 0 and "paused" in capsys.readouterr().out
    assert main(["sweep", "pause", "1", *args]) == 2
    assert main(["sweep", "resume", "1", *args]) == 0
    assert main(["sweep", "cancel", "2", *args]) == 0
    capsys.readouterr()
    with Store(home) as store:
        assert {r.status for r in sweep_runs(store, 2)} == {"stopped"}
    for bad in (["sweep", "show", "9"], ["sweep", "show", "x"], ["sweep", "show"], ["sweep", "create"],
                ["sweep", "create", "--method", "jigsaw"], ["sweep", "create", "--study", "nope"],
                ["sweep", "create", "--method", "jigsaw", "--axis", "seed=1", "--zip", "--axis", "lr=0.1,0.2"]):
        assert main([*bad, *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
