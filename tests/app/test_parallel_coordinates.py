"""The runs browser's parallel-coordinates view: the runs the filter shows, one axis per
parameter that differs between them and per metric, one line per run coloured by the last
axis; it follows the filter, re-colours by another metric and exports PNG and SVG."""
from app.views.parallel_coordinates_dialog import ParallelCoordinatesDialog
from app.views.runs_view import RunsView
from engine.store.database import Store


def _runs(home):
    with Store(home) as store:
        for i, (method, lr, acc) in enumerate((("jigsaw", 1e-4, 0.2), ("jigsaw", 1e-2, 0.4), ("rotation", 1e-3, 0.5))):
            config = {"data": {"id": "shapes", "params": {"train_size": 1000}},
                      "method": {"id": method, "params": {}}, "backbone": {"id": "convnet", "params": {}},
                      "train": {"epochs": 1, "lr": lr}}
            run_id = store.create_run(config, name=f"{method}-{i}", status="completed")
            store.log_metrics(run_id, [(1, 1.0, 0.0, "knn_acc", acc), (1, 1.0, 0.0, "loss", 3.0 - i)])


def test_the_button_draws_the_shown_runs_across_their_differing_parameters(qtbot, home, monkeypatch, tmp_path):
    _runs(home)
    opened = []
    monkeypatch.setattr(ParallelCoordinatesDialog, "exec", lambda self: opened.append(self))
    view = RunsView(home)
    qtbot.addWidget(view)
    view.show()
    view.parallel_button.click()
    dialog = opened[-1]
    qtbot.addWidget(dialog)
    axes = [a.field for a in dialog.plot.view.axes]
    assert axes == ["method", "train.lr", "loss", "knn_acc"]  # coloured by kNN: the last axis
    assert dialog.plot.runs_drawn == 3 and "3 runs on 4 axes (2 parameters" in dialog.summary.text()
    assert [a.kind for a in dialog.plot.view.axes][:2] == ["category", "log"]
    dialog.colour_by.setCurrentIndex(dialog.colour_by.findData("loss"))
    assert [a.field for a in dialog.plot.view.axes][-1] == "loss"
    files = dialog.plot.save(tmp_path / "pc.png")
    assert all(f.exists() and f.stat().st_size > 1000 for f in files)

    view.where.setText("method = jigsaw")  # the filter decides which runs are drawn
    view.parallel_button.click()
    dialog = opened[-1]
    qtbot.addWidget(dialog)
    assert dialog.plot.runs_drawn == 2 and [a.field for a in dialog.plot.view.axes][0] == "train.lr"
    view.shutdown()
