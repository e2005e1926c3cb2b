"""The Sweeps and Scaling views: a tiny sweep (two runs of a few steps on shapes) is set up from
the schemas' parameters, started from the GUI, trained and evaluated by the queue the GUI
starts, and ends as a scaling plot with its random-init line, exported as PNG, SVG and CSV."""
import pytest

from app.jobs import queue_runner
from engine.store.database import Store
from engine.store.sweep_record import list_sweeps

TINY_SETS = ("test_size=32, image_size=16, width=8, epochs=1, batch_size=16, knn_every=0, device=cpu")


@pytest.fixture(autouse=True)
def no_scheduler_left():
    yield
    queue_runner.stop()


def _setup(view, axis_key, values):
    view.method.setCurrentIndex(view.method.findData("rotation"))
    view.sets.setText(TINY_SETS)
    for box in view.protocols.values():
        box.setChecked(box.objectName() == "protocol_knn")
    view.add_axis(axis_key, values)


def test_an_invalid_axis_is_refused_and_stores_nothing(window, qtbot, home):
    view = window.sweeps
    window.tabs.setCurrentWidget(view)
    _setup(view, "train.lr", "0.01, fast")
    assert view.count.text() == "2 runs"
    view.start.click()
    qtbot.waitUntil(lambda: "invalid" in view.message.text(), timeout=20000)
    assert "lr must be a number" in view.message.text()
    with Store(home) as store:
        assert list_sweeps(store) == [] and store.list_runs() == []


def test_a_tiny_sweep_runs_to_its_scaling_plot(window, qtbot, home, tmp_path):
    view = window.sweeps
    window.tabs.setCurrentWidget(view)
    _setup(view, "data.train_size", "48, 96")
    assert "data.train_size" in [view.rows[0].key_box.itemText(i) for i in range(view.rows[0].key_box.count())]
    assert view.count.text() == "2 runs"
    view.start.click()
    qtbot.waitUntil(lambda: window.tabs.currentWidget() is window.scaling, timeout=20000)
    assert queue_runner.running()
    plot = window.scaling.plot

    def plotted():
        d = plot.data
        return d is not None and d.metric == "knn@20" and d.reference is not None and \
            len(d.curves) == 1 and len(d.curves[0].points) == 2

    qtbot.waitUntil(plotted, timeout=300000)
    assert [p.x for p in plot.data.curves[0].points] == [48, 96]
    assert len(plot.curve_items) == 1 and plot.reference_line is not None
    files = window.scaling.save_figure(tmp_path / "scaling.png")
    csv_path = window.scaling.save_csv(tmp_path / "scaling.csv")
    assert all(f.stat().st_size > 0 for f in files) and [f.suffix for f in files] == [".png", ".svg"]
    lines = csv_path.read_text().splitlines()
    assert lines[0].startswith("data.train_size,") and len(lines) == 4 and lines[-1].startswith("random init")
    window.tabs.setCurrentWidget(view)
    qtbot.waitUntil(lambda: view.table.rowCount() == 1 and view.table.item(0, 2).text() == "completed",
                    timeout=30000)
