"""The home layout of DESIGN.md ("Home folder"), spelled out here once, and the store and
trainer writing where RunPaths says."""
from engine.runs.paths import RunDir, RunPaths


def test_the_layout_is_the_documented_one(tmp_path):
    paths = RunPaths(str(tmp_path))
    assert paths.store == tmp_path / "experiments.db"
    assert paths.cache == tmp_path / "cache" and paths.plugins == tmp_path / "plugins"
    run = paths.run("r1")
    assert run.root == tmp_path / "runs" / "r1" and run.run_id == "r1"
    assert run.config == run.root / "config.json" and run.log == run.root / "log.txt"
    assert run.last_checkpoint == run.root / "checkpoints" / "last.pt"
    assert run.backbone == run.root / "artifacts" / "backbone.pt"
    assert RunDir.of(run) is run and RunDir.of(str(run.root)) == run


def test_the_store_creates_runs_where_run_paths_says(home):
    from engine.store.database import Store

    store = Store(home)
    try:
        run_id = store.create_run({"method": {"id": "m"}, "backbone": {"id": "b"}, "data": {"id": "d"}})
        run = RunPaths(home).run(run_id)
        assert store.path == RunPaths(home).store and store.run_dir(run_id) == run
        assert run.config.is_file() and run.checkpoints.is_dir() and run.artifacts.is_dir()
        store.delete_run(run_id)
        assert not run.root.exists()
    finally:
        store.close()
