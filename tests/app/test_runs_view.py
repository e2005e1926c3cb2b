"""Runs browser: filters, overlays, compare, clone, delete, export."""
import csv
import os
import socket
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from app.views.compare_dialog import CompareDialog, config_rows
from app.views.runs_view import RunsView
from app.widgets.runs_model import COLUMNS, RunsFilter, RunsModel
from engine.runs.status import RunStatus
from engine.store.database import Store
from engine.store.run_record import Run
from tests.app.conftest import tiny_config
from tests.app.gui_waits import writes_done


def _make_runs(home):
    store = Store(home)
    ids = {}
    for name, method, status, temp in (("alpha", "simclr", "completed", 0.5), ("beta", "simclr", "failed", 0.2),
                                       ("gamma", "byol", "completed", None)):
        cfg = tiny_config(method) if temp is None else tiny_config(method)
        if temp is not None:
            cfg["method"]["params"]["temperature"] = temp
        run_id = store.create_run(cfg, name)
        store.update_run(run_id, status=status, started=time.time() - 60, ended=time.time(), step=4, total_steps=4)
        store.log_metrics(run_id, [(s, s / 4, time.time(), "loss", 4.0 - s) for s in range(1, 5)]
                          + [(4, 1.0, time.time(), "contrastive_acc", 0.5)])
        ids[name] = run_id
        time.sleep(0.01)
    store.update_run(ids["gamma"], tags="baseline", notes="the reference run")
    return store, ids


def test_search_and_filters(qtbot, home, plugins):
    _make_runs(home)
    view = RunsView(home)
    qtbot.addWidget(view)
    assert view.proxy.rowCount() == 3
    view.search.setText("alp")
    assert view.proxy.rowCount() == 1
    view.search.setText("baseline")  # tags are searched too
    assert view.proxy.rowCount() == 1
    view.search.clear()
    view.status_filter.setCurrentIndex(view.status_filter.findData("completed"))
    assert view.proxy.rowCount() == 2
    view.method_filter.setCurrentIndex(view.method_filter.findData("simclr"))
    assert view.proxy.rowCount() == 1
    assert view.proxy.index(0, 0).data() == "alpha"
    assert view.proxy.index(0, COLUMNS.index("loss")).data() == "0"  # latest loss
    view.shutdown()


def test_selecting_runs_overlays_their_curves_and_compares_configs(qtbot, home, plugins):
    store, ids = _make_runs(home)
    view = RunsView(home)
    qtbot.addWidget(view)
    view.select_ids([ids["alpha"], ids["beta"]])
    assert len(view.overlay.series) == 2
    assert all(buf.n == 4 for buf in view.overlay.series.values())
    assert view.overlay.legend is not None and len(view.overlay.legend.items) == 2
    colors = {view.overlay.items[n][1].opts["pen"].color().name() for n in view.overlay.series}
    assert len(colors) == 2  # one colour per run
    assert view.buttons["compare"].isEnabled() and not view.buttons["clone"].isEnabled()
    dialog = CompareDialog(view.selected_runs())
    qtbot.addWidget(dialog)
    assert dialog.row_keys() == ["method.temperature"]
    dialog.show_all.setChecked(True)
    assert len(dialog.row_keys()) > 10 and "train.epochs" in dialog.row_keys()
    view.overlay_metric.setCurrentIndex(view.overlay_metric.findData("accuracy"))
    assert all(buf.n == 1 for buf in view.overlay.series.values())
    view.shutdown()


def test_identical_configs_have_no_differing_rows():
    cfg = {"method": {"id": "simclr", "params": {"t": 1}}, "train": {"epochs": 1}}
    runs = [Run(id=i, name=i, status=RunStatus.COMPLETED, method="simclr", backbone="convnet", dataset="shapes",
                config=cfg, created=0.0) for i in ("a", "b")]
    assert config_rows(runs, False) == []
    assert config_rows(runs, True) == [("method", ["simclr", "simclr"]), ("method.t", [1, 1]),
                                       ("train.epochs", [1, 1])]


def test_delete_and_export(qtbot, home, plugins, tmp_path, monkeypatch):
    store, ids = _make_runs(home)
    view = RunsView(home)
    qtbot.addWidget(view)
    out = tmp_path / "alpha.csv"
    monkeypatch.setattr("app.views.runs_view.QFileDialog.getSaveFileName", lambda *a, **k: (str(out), ""))
    view.select_ids([ids["alpha"]])
    view.export()
    writes_done(qtbot, view)
    rows = list(csv.DictReader(open(out)))
    assert [float(r["loss"]) for r in rows] == [3.0, 2.0, 1.0, 0.0]
    monkeypatch.setattr("app.views.runs_view.QMessageBox.question", lambda *a, **k: QMessageBox.Yes)
    view.delete()
    writes_done(qtbot, view)
    assert view.proxy.rowCount() == 2
    assert not store.run_dir(ids["alpha"]).root.exists()
    view.shutdown()


def test_the_model_is_fast_with_a_thousand_runs(qtbot):
    cfg = tiny_config()
    runs = [Run(id=f"r{i}", name=f"run-{i}", status=RunStatus.COMPLETED, method="simclr", backbone="convnet",
                dataset="shapes", config=cfg, created=1e9 + i, started=1e9 + i, ended=1e9 + i + 50,
                step=4, total_steps=4, latest={"loss": float(i)}, evals=0) for i in range(1000)]
    model, proxy = RunsModel(), RunsFilter()
    proxy.setSourceModel(model)
    model.set_runs(runs)
    proxy.sort(8)
    assert proxy.index(0, 0).data() == "run-0" and proxy.rowCount() == 1000
    proxy.set_filters(search="run-99")
    assert proxy.rowCount() == 11  # run-99 and run-990..999


def test_clone_opens_new_run_prefilled(window, qtbot, home):
    store, ids = _make_runs(home)
    window.runs.refresh()
    window.runs.select_ids([ids["beta"]])
    window.runs.clone()
    view = window.new_run
    assert window.tabs.currentWidget() is view
    assert view.name.text() == "beta-clone"
    assert view.pickers["backbone"].current_id() == "convnet"
    assert float(view.forms["method"].values()["temperature"]) == 0.2
    assert view.forms["data"].values()["train_size"] == 64
    assert view.start_button.isEnabled()
    view.forms["train"].editors["epochs"].setValue(3)  # still editable
    assert view.validate()["train"]["epochs"] == 3


def test_opening_the_browser_loads_no_plugin_on_the_gui_thread(home):
    """The runs browser is built before the plugins load in the background: asking the
    registry then would import torch on the Qt thread (seconds of frozen window)."""
    import subprocess
    import sys
    from pathlib import Path

    store = Store(home)
    store.create_run(tiny_config(), "one")
    now = time.time()
    store.log_metrics(store.list_runs()[0].id, [(1, 0.1, now, "loss", 1.0), (1, 0.1, now, "rotation_acc", 0.5)])
    store.close()
    code = ("import sys; from PySide6.QtWidgets import QApplication; app = QApplication([]);"
            "from app.views.runs_view import RunsView; v = RunsView(__import__('pathlib').Path(sys.argv[1]));"
            "v.show(); v.refresh(); app.processEvents();"
            "assert v.proxy.rowCount() == 1; print('torch' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code, str(home)], cwd=root, capture_output=True, text=True,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_runs_of_one_name_show_their_short_ids_and_a_baseline_cannot_be_resumed(qtbot, home, plugins):
    from engine.store.database import Store
    from tests.app.conftest import tiny_config

    with Store(home) as store:
        a = store.create_run(tiny_config(), "same")
        b = store.create_run(tiny_config(), "same")
        store.update_run(a, status="stopped")
        base_config = dict(tiny_config(), method={"id": "random", "params": {}})
        baseline = store.create_run(base_config, "random init (convnet)", status="stopped")
    view = RunsView(home)
    qtbot.addWidget(view)
    view.refresh()
    shown = {view.proxy.index(r, COLUMNS.index("id")).data(): view.proxy.index(r, COLUMNS.index("status")).data()
             for r in range(view.proxy.rowCount())}
    assert set(shown) == {a[-4:], b[-4:], baseline[-4:]} and shown[baseline[-4:]] == "baseline"
    view.select_ids([baseline])
    assert not view.buttons["resume"].isEnabled() and not view.buttons["clone"].isEnabled()
    view.select_ids([a])
    assert view.buttons["resume"].isEnabled() and view.buttons["clone"].isEnabled()


def _stopped_without_checkpoint(home):
    store = Store(home)
    run = store.create_run(tiny_config(), "no-ckpt")
    store.update_run(run, status="stopped", started=time.time() - 60, ended=time.time(), step=2, total_steps=4)
    store.log_metrics(run, [(s, s / 4, time.time(), "loss", 4.0 - s) for s in (1, 2)])
    return store, run


def _resume_answering(qtbot, home, monkeypatch, answer):
    """(view, the runs waiting in the queue each time its scheduler was started, questions asked)."""
    from app.jobs import queue_runner
    from engine.store import queue_table

    started = []

    def ensure_running(h):
        with Store(h) as store:
            started.extend(queue_table.waiting_runs(store))

    monkeypatch.setattr(queue_runner, "ensure_running", ensure_running)
    asked = []

    def question(parent, title, text, *args):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: asked.append(("warning", a[2])))
    view = RunsView(home)
    qtbot.addWidget(view)
    view.refresh()
    return view, started, asked


def test_resume_without_a_checkpoint_offers_a_fresh_start_and_keeps_history_on_no(qtbot, home, plugins, monkeypatch):
    store, run = _stopped_without_checkpoint(home)
    view, started, asked = _resume_answering(qtbot, home, monkeypatch, QMessageBox.StandardButton.No)
    view.select_ids([run])
    view.resume()
    writes_done(qtbot, view)
    assert len(asked) == 1 and "2 metric rows" in asked[0] and "step 0" in asked[0]
    assert started == [] and store.get_run(run).status == "stopped"
    assert len(store.metric_series(run, "loss")[0]) == 2  # history kept


def test_resume_without_a_checkpoint_starts_afresh_on_yes(qtbot, home, plugins, monkeypatch):
    store, run = _stopped_without_checkpoint(home)
    view, started, asked = _resume_answering(qtbot, home, monkeypatch, QMessageBox.StandardButton.Yes)
    view.select_ids([run])
    view.resume()
    writes_done(qtbot, view)
    assert len(asked) == 1 and started == [run]
    fresh = store.get_run(run)
    assert fresh.status == "queued" and fresh.step == 0


def test_filter_language_and_group_by(qtbot, home):
    """The browser's filter field takes the engine's filter language; a bad filter says why in
    one sentence and leaves the table as it was; group by lists mean ± s.d. per value."""
    from app.views.runs_view import RunsView
    from engine.store.database import Store

    with Store(home) as store:
        for i, (method, acc) in enumerate((("jigsaw", 0.2), ("jigsaw", 0.4), ("rotation", 0.5))):
            config = {"data": {"id": "shapes", "params": {"train_size": 100 * (i + 1)}},
                      "method": {"id": method, "params": {}}, "backbone": {"id": "convnet", "params": {}},
                      "train": {"epochs": 1, "lr": 0.001}}
            run_id = store.create_run(config, name=f"{method}-{i}", status="completed")
            store.log_metrics(run_id, [(1, 1.0, 0.0, "knn_acc", acc)])
    view = RunsView(home)
    qtbot.addWidget(view)
    view.show()
    view.where.setText("method = jigsaw and knn_acc > 0.3")
    assert [r.name for r in view.shown_runs()] == ["jigsaw-1"] and "1 of 3 runs" in view.where_message.text()
    view.where.setText("method = jigsaw and")
    assert "ends too early" in view.where_message.text() and len(view.shown_runs()) == 1
    view.where.setText("data.train_size >= 200")
    view.group_field.setText("method")
    assert [(g.value, g.runs) for g in view.groups.groups] == [("jigsaw", 1), ("rotation", 1)]
    view.where.setText("")
    assert view.groups.item(0, 2).text().startswith("0.3 ± 0.14")
def test_the_buttons_follow_the_runs_after_delete_resume_and_a_refresh(qtbot, home, plugins, monkeypatch):
    store, ids = _make_runs(home)
    view = RunsView(home)
    qtbot.addWidget(view)
    view.select_ids([ids["alpha"]])
    assert view.buttons["clone"].isEnabled() and view.buttons["delete"].isEnabled()
    assert len(view.overlay.series) == 1
    monkeypatch.setattr("app.views.runs_view.QMessageBox.question", lambda *a, **k: QMessageBox.Yes)
    view.delete()
    writes_done(qtbot, view)
    assert view.selected_runs() == []
    for key in ("open", "clone", "notes", "delete", "export", "resume", "stop", "compare"):
        assert not view.buttons[key].isEnabled(), key
    assert view.overlay.series == {} and len(view.overlay.legend.items) == 0  # its curve went with it

    view.select_ids([ids["beta"], ids["gamma"]])
    store.delete_run(ids["gamma"])  # deleted elsewhere (the CLI): the next refresh drops it
    view.refresh()
    assert [r.id for r in view.selected_runs()] == [ids["beta"]]
    assert view.buttons["clone"].isEnabled() and not view.buttons["compare"].isEnabled()
    assert list(view.overlay.series) == [f"beta ({ids['beta'][-4:]})"]

    assert view.buttons["resume"].isEnabled()  # beta failed
    monkeypatch.setattr("app.views.resume_prompt.launcher.requeue",
                        lambda writer, run_id, fresh=False: writer.requeue(run_id) is None)
    view.resume()
    writes_done(qtbot, view)
    assert view.selected_runs()[0].status == RunStatus.QUEUED
    assert not view.buttons["resume"].isEnabled() and view.buttons["stop"].isEnabled()
    store.update_run(ids["beta"], status="completed")  # the store moves on: the next refresh follows
    view.refresh()
    assert not view.buttons["stop"].isEnabled()
    view.shutdown()


def test_the_table_shows_the_store_as_it_is_now_and_the_time_trained(qtbot, home, plugins):
    store = Store(home)
    run_id = store.create_run(tiny_config(epochs=3), "finisher")
    now = time.time()
    store.update_run(run_id, status="running", started=now - 3700, heartbeat=now, pid=os.getpid(),
                     host=socket.gethostname(), step=29, total_steps=30)
    store.log_metrics(run_id, [(29, 2.9, now, "loss", 1.0), (29, 2.9, now, "active_seconds", 95.0)])
    view = RunsView(home)
    qtbot.addWidget(view)
    view.show()

    def cell(column):
        return view.proxy.index(0, COLUMNS.index(column)).data()

    assert (cell("status"), cell("epochs")) == ("running", "2.9/3")
    view.hide()  # another tab: no refresh meanwhile
    # it sat stopped for an hour before a resume; its workers trained 100 s in all
    store.log_metrics(run_id, [(30, 3.0, now, "active_seconds", 100.0)])
    store.update_run(run_id, status="completed", step=30, ended=now)
    view.show()  # back on the tab: the row is the store's at once, not after the next tick
    assert (cell("status"), cell("epochs"), cell("duration")) == ("completed", "3.0/3", "1:40")
    view.shutdown()


def test_metric_columns_are_added_from_the_header_menu_and_kept(qtbot, home, plugins):
    store, ids = _make_runs(home)
    store.log_metrics(ids["alpha"], [(4, 1.0, time.time(), "knn_acc", 0.61), (4, 1.0, time.time(), "rss_mb", 812.0)])
    view = RunsView(home)
    qtbot.addWidget(view)
    view.select_ids([ids["alpha"]])
    menu = view.header_menu()
    entries = {a.data(): a for a in menu.actions() if a.data()}
    assert {"contrastive_acc", "rss_mb"} <= set(entries)
    assert not {"loss", "knn_acc"} & set(entries)  # columns already
    entries["rss_mb"].setChecked(True)  # as a click in the menu does
    entries["contrastive_acc"].setChecked(True)
    columns = [view.model.headerData(c, Qt.Horizontal) for c in range(view.model.columnCount())]
    assert columns[-2:] == ["Resident memory", "Contrastive accuracy"]
    assert [r.id for r in view.selected_runs()] == [ids["alpha"]]  # the selection survived the new columns
    row = next(r for r in range(view.proxy.rowCount()) if view.proxy.index(r, 0).data() == "alpha")
    assert view.proxy.index(row, len(COLUMNS)).data() == "812"
    assert view.proxy.index(row, len(COLUMNS) + 1).data() == "0.5"
    other = next(r for r in range(view.proxy.rowCount()) if view.proxy.index(r, 0).data() == "beta")
    assert view.proxy.index(other, len(COLUMNS)).data() == ""  # beta logged no rss_mb
    view.table.sortByColumn(len(COLUMNS), Qt.DescendingOrder)
    assert view.proxy.index(0, 0).data() == "alpha"
    view.shutdown()

    again = RunsView(home)  # the choice is kept in the settings
    qtbot.addWidget(again)
    assert again.model.metric_columns == ["rss_mb", "contrastive_acc"]
    menu = again.header_menu()
    next(a for a in menu.actions() if a.data() == "rss_mb").setChecked(False)
    assert again.model.metric_columns == ["contrastive_acc"]
    again.shutdown()


def test_compare_shows_latest_metrics_and_overlays_the_curves(qtbot, home, plugins):
    store, ids = _make_runs(home)
    store.log_metrics(ids["beta"], [(4, 1.0, time.time(), "knn_acc", 0.42)])
    view = RunsView(home)
    qtbot.addWidget(view)
    view.select_ids([ids["alpha"], ids["beta"]])
    runs = view.selected_runs()
    dialog = CompareDialog(runs, store=view.store)
    qtbot.addWidget(dialog)
    assert [dialog.tabs.tabText(i) for i in range(dialog.tabs.count())] == ["Configuration", "Latest metrics", "Curves"]
    assert dialog.metric_keys() == ["loss", "contrastive_acc", "knn_acc"]
    assert dialog.metrics.verticalHeaderItem(1).text() == "Contrastive accuracy"
    column = {r.id: j for j, r in enumerate(runs)}
    assert dialog.metrics.item(2, column[ids["beta"]]).text() == "0.42"
    assert dialog.metrics.item(2, column[ids["alpha"]]).text() == ""  # alpha logged no kNN value
    loss, acc = dialog.curves["loss"], dialog.curves["accuracy"]
    assert len(loss.series) == 2 and all(b.n == 4 for b in loss.series.values())
    assert len(loss.legend.items) == 2 and len(acc.series) == 2
    assert acc.getPlotItem().titleLabel.text == "Contrastive accuracy"
    temperature = dialog.table.item(dialog.row_keys().index("method.temperature"), 0).text()
    assert temperature in ("0.5", "0.2")
    dialog.show_all.setChecked(True)
    row = dialog.row_keys().index("data.image_size")
    assert dialog.table.item(row, 0).text() == "16 px"  # with its parameter's unit
    view.shutdown()
