"""Evaluate view: a real evaluation runs in an engine process started from the view, its
results fill the comparison table and the plots, figures and the table are saved; a
failing job shows the CLI's sentence; no process is left behind."""
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.jobs.eval_job import EvalJob, EvalRequest
from app.views.evaluate_view import EvaluateView
from engine.store.database import Store
from tests.app.conftest import TINY, tiny_config


@pytest.fixture
def trained_run(home, plugins):
    """A tiny SimCLR run, trained to completion in this process (about a second)."""
    from engine.runs.worker import execute

    store = Store(home)
    run_id = store.create_run(tiny_config(), "tiny simclr")
    store.close()
    execute(home, run_id)
    return run_id


@pytest.fixture
def view(qtbot, home, plugins):
    v = EvaluateView(home)
    qtbot.addWidget(v)
    v.plugins_loaded()
    v.resize(1200, 800)
    v.show()
    yield v
    v.shutdown()


def choose(view, runs, protocols, baseline=False):
    view.setup.check_runs(runs)
    for pid, check in view.setup.protocol_checks.items():
        check.setChecked(pid in protocols)
    view.setup.baseline.setChecked(baseline)


def test_the_view_evaluates_a_run_and_its_random_baseline(view, qtbot, home, trained_run, tmp_path):
    assert trained_run not in view.setup.runs  # trained after the view opened
    view.refresh_runs()
    assert trained_run in view.setup.runs
    choose(view, [trained_run], ("knn", "fewshot"), baseline=True)
    assert view.setup.expected_jobs() == 4
    qtbot.mouseClick(view.evaluate_button, Qt.LeftButton)
    assert view.running() and not view.evaluate_button.isEnabled()

    def both_rows_have_knn():
        rows = view.table.rows
        return len(rows) == 2 and all(r.get("knn@20") is not None for r in rows)
    qtbot.waitUntil(lambda: both_rows_have_knn() and view.fewshot.curve_count() == 2 and view.job is None,
                    timeout=90000)
    assert "stored" in view.message.text() and view.progress.value() == 1000
    methods = {r["method"]: r for r in view.table.rows}
    assert set(methods) == {"simclr", "random"}
    for row in methods.values():  # figures are fractions; the few-shot ones mean and std
        assert 0.0 <= row["knn@20"] <= 1.0
        mean, std = row["1-shot"]
        assert 0.0 <= mean <= 1.0 and std >= 0.0
    shown = [view.table.table.item(0, c).text() for c in range(view.table.table.columnCount())]
    assert any("±" in cell for cell in shown)
    baseline = methods["random"]["id"]
    assert baseline in view.setup.runs  # the job's baseline joined the list of runs

    files = view.fewshot.save(tmp_path / "figures" / "fewshot")
    assert [f.suffix for f in files] == [".png", ".svg"] and all(f.stat().st_size > 1000 for f in files)
    assert "<svg" in files[1].read_text()
    for suffix, marker in ((".csv", "knn@20"), (".md", "| knn@20"), (".tex", r"\toprule")):
        text = view.table.export(tmp_path / f"table{suffix}")
        assert marker in text and (tmp_path / f"table{suffix}").read_text() == text


def test_a_failing_job_shows_the_engine_sentence(view, qtbot, home, plugins):
    store = Store(home)  # a finished run whose checkpoint is missing: the engine refuses it
    run_id = store.create_run(tiny_config(), "no weights", status="completed")
    store.close()
    view.refresh_runs()
    choose(view, [run_id], ("knn",))
    assert view.evaluate()
    qtbot.waitUntil(lambda: view.job is None, timeout=60000)
    assert "no checkpoint" in view.message.text() and view.message.property("role") == "error"
    assert "Traceback" not in view.message.text()
    assert view.evaluate_button.isEnabled()


def test_bad_parameters_are_refused_before_any_process_starts(view, home, trained_run):
    view.refresh_runs()
    assert not view.evaluate()  # nothing checked
    assert "check at least one run" in view.message.text()
    choose(view, [trained_run], ("knn",))
    view.setup.protocol_forms["knn"].set_values({"k": "20,abc"})
    assert not view.evaluate() and view.job is None
    assert "Cannot evaluate" in view.message.text() and "k" in view.message.text()


def test_cancel_ends_the_process(view, qtbot, trained_run):
    view.refresh_runs()
    choose(view, [trained_run], ("knn",))
    assert view.evaluate()
    process = view.job.process
    qtbot.waitUntil(lambda: process.processId() > 0, timeout=10000)
    qtbot.mouseClick(view.cancel_button, Qt.LeftButton)
    assert view.job is None and view.message.text() == "Cancelled."
    assert process.state() == process.ProcessState.NotRunning


def test_request_arguments():
    request = EvalRequest(["r1", "r2"], {"knn": {"k": "20, 200", "temperature": 0.07}, "fewshot": {}},
                          baseline=True, data={"id": "shapes", "params": {"image_size": 16, "seed": None}},
                          device="cpu")
    args = request.arguments("/h")
    assert args[:5] == ["eval", "r1", "r2", "--protocol", "knn,fewshot"]
    assert "--set=knn.k=20, 200" in args and "--set=knn.temperature=0.07" in args
    assert args[args.index("--data") + 1] == "shapes" and "--set=data.image_size=16" in args
    assert not any("seed" in a for a in args)  # an empty value keeps the default
    assert args[-2:] == ["--baseline", "random"]
    assert args[args.index("--progress") + 1] == "jsonl"  # the job reads events, not the bar


class ScriptedJob(EvalJob):
    """An EvalJob whose process is a script that writes the given stdout and stderr."""

    def __init__(self, home, stdout: str, stderr: str, code: int):
        super().__init__(home, EvalRequest(["r1"], {"knn": {}}), 2)
        script = f"import sys; sys.stdout.write({stdout!r}); sys.stderr.write({stderr!r}); sys.exit({code})"
        self.script = ["-c", script]

    @property
    def command(self):
        import sys

        return [sys.executable, *self.script]


def run_scripted(qtbot, job):
    seen = {"progress": [], "results": [], "finished": None}
    job.progress.connect(lambda f, text: seen["progress"].append((f, text)))
    job.result.connect(lambda run, protocol: seen["results"].append((run, protocol)))
    job.finished.connect(lambda ok, message: seen.__setitem__("finished", (ok, message)))
    job.start()
    qtbot.waitUntil(lambda: seen["finished"] is not None, timeout=30000)
    return seen


def test_the_job_follows_the_events_and_shows_the_error_event(qtbot, home):
    from engine.evaluation.progress_events import EvalFailed, JobStarted, ResultStored, StepProgress, to_line

    lines = [JobStarted(3, ["r1", "r2"], ["knn"]), StepProgress(0, "r1", "knn", 500, 1000, "features of train"),
             ResultStored(0, "r1", "knn", 7, "shapes", "backbone.pt", {"knn@20": 0.5}),
             EvalFailed("run r2 has no checkpoint yet; train it first")]
    stdout = "a plugin's stray print\n" + "\n".join(map(to_line, lines)) + "\n"
    seen = run_scripted(qtbot, ScriptedJob(home, stdout, "error: a different last stderr line\n", 2))
    assert seen["finished"] == (False, "run r2 has no checkpoint yet; train it first")
    assert seen["results"] == [("r1", "knn")]
    fractions = {text: f for f, text in seen["progress"]}
    assert fractions["knn on r1: features of train (1 of 3)"] == pytest.approx(0.5 / 3)
    assert fractions["knn of r1 stored"] == pytest.approx(1 / 3)


def test_without_an_error_event_the_job_shows_the_last_stderr_line(qtbot, home):
    seen = run_scripted(qtbot, ScriptedJob(home, "", "Traceback (most recent call last):\nMemoryError: out\n", 1))
    assert seen["finished"] == (False, "MemoryError: out")


def _artifact_rows(home, tmp_path):
    """Hand-made ``embedding`` and ``retrieval`` eval rows over the tiny shapes data."""
    data = {"id": "shapes", "params": TINY["data"]}
    rng = np.random.default_rng(0)
    idx = np.arange(0, 32, 2)
    np.savez(tmp_path / "map.npz", xy=rng.normal(size=(16, 2)).astype(np.float32),
             labels=idx % 10, indices=idx)
    queries = np.array([1, 3, 5, 7, 9, 11, 13])
    neighbours = rng.integers(0, 64, size=(7, 10))
    np.savez(tmp_path / "nn.npz", queries=queries, neighbours=neighbours, similarities=np.ones((7, 10)),
             query_labels=queries % 10, neighbour_labels=neighbours % 10)
    embedding = {"id": 1, "dataset": "shapes", "params": {"data": data}, "results": {"path": str(tmp_path / "map.npz")}}
    retrieval = {"id": 2, "dataset": "shapes", "params": {"data": data}, "results": {"path": str(tmp_path / "nn.npz")}}
    return embedding, retrieval


def test_the_map_shows_the_hovered_image_and_the_grid_its_neighbours(view, qtbot, home, tmp_path):
    embedding, retrieval = _artifact_rows(home, tmp_path)
    view.plots.setCurrentWidget(view.embedding)
    view.embedding.set_maps([("run a", embedding)])
    qtbot.waitUntil(lambda: view.embedding.loaded is not None, timeout=30000)
    assert view.embedding.loaded.images.shape == (16, 16, 16, 3)
    scatter = [i for i in view.embedding.plot.getPlotItem().items if hasattr(i, "sigHovered")]
    assert len(scatter) == 5 and sum(len(s.data) for s in scatter) == 16  # one colour per class present
    view.embedding.show_point(3)
    assert view.embedding.inset.isVisible() and view.embedding.inset_caption.text() == "ring"  # label 6: CLASSES[6]

    view.neighbours.set_retrievals([("run a", retrieval), ("run b", {**retrieval, "id": 3})])
    qtbot.waitUntil(lambda: view.neighbours.loaded is not None, timeout=30000)
    assert view.neighbours.image_count() == 2 * 6 * 8  # 6 queries, top 8, two runs
    files = view.neighbours.save(tmp_path / "grid.png")
    assert [f.name for f in files] == ["grid.png", "grid.svg"] and all(f.stat().st_size > 1000 for f in files)


@pytest.mark.parametrize("damage", ["missing", "garbage", "wrong arrays"])
def test_a_missing_or_damaged_artifact_is_a_sentence_in_the_view(view, qtbot, home, tmp_path, damage):
    embedding, retrieval = _artifact_rows(home, tmp_path)
    for row in (embedding, retrieval):
        path = Path(row["results"]["path"])
        if damage == "missing":
            path.unlink()
        elif damage == "garbage":
            path.write_bytes(b"PK\x03\x04 not really a zip")
        else:
            np.savez(path, something_else=np.zeros(3))
    view.embedding.set_maps([("run a", embedding)])
    view.neighbours.set_retrievals([("run a", retrieval)])
    qtbot.waitUntil(lambda: not view.embedding.job.running and not view.neighbours.job.running, timeout=30000)
    for widget, what in ((view.embedding, "map"), (view.neighbours, "neighbours")):
        text = widget.status.text()
        assert text.startswith(f"could not load the {what}: the ") and "evaluate again" in text
        assert ("is missing" in text) == (damage == "missing")
        assert "Traceback" not in text and "Error:" not in text
        assert widget.loaded is None
