"""Monitor: plots what a worker writes as it writes it; Stop, Pause, Resume act through the
store; a crashed run shows its error and can be resumed."""
import os
import time

from PySide6.QtCore import Qt

from app.views.monitor_view import MonitorView
from engine.runs.process_control import spawn_worker
from engine.store.database import Store
from tests.app.conftest import tiny_config, wait_status
from tests.app.gui_waits import writes_done


def _fake_running_run(home, plugins):
    store = Store(home)
    run_id = store.create_run(tiny_config(epochs=2), "simulated")
    now = time.time()
    store.update_run(run_id, status="running", started=now, heartbeat=now, pid=os.getpid(),
                     host=__import__("socket").gethostname(), total_steps=8, step=0)
    return store, run_id


def _rows(steps, t0):
    rows = []
    for s in steps:
        rows += [(s, s / 4, t0 + s, "loss", 5.0 - 0.1 * s), (s, s / 4, t0 + s, "contrastive_acc", 0.1 * s),
                 (s, s / 4, t0 + s, "lr", 0.3), (s, s / 4, t0 + s, "img_per_s", 100.0)]
    return rows


def _monitor(qtbot, home):
    """A MonitorView of ``home``, closed with the test."""
    view = MonitorView(home)
    qtbot.addWidget(view)
    return view


def _log_and_wait(qtbot, view, store, run_id, steps):
    """The worker writes ``steps``' rows (``_rows``) now; waits until the loss plot shows
    ``len(steps)`` points."""
    store.log_metrics(run_id, _rows(steps, time.time()))
    qtbot.waitUntil(lambda: view.plots["loss"].point_count("loss") == len(steps), timeout=3000)


def test_the_monitor_plots_rows_as_a_worker_writes_them(qtbot, home, plugins):
    store, run_id = _fake_running_run(home, plugins)
    view = _monitor(qtbot, home)
    view.show_run(run_id)
    assert view.selector.currentData() == run_id
    _log_and_wait(qtbot, view, store, run_id, [1, 2, 3])
    assert view.plots["accuracy"].point_count("contrastive_acc") == 3
    store.log_metrics(run_id, _rows([4, 5], time.time()) + [(5, 1.25, time.time(), "knn_acc", 0.4)])
    store.update_run(run_id, step=5)
    qtbot.waitUntil(lambda: view.plots["loss"].point_count("loss") == 5, timeout=3000)
    loss = view.plots["loss"].series["loss"]
    assert list(loss.xs("step")) == [1, 2, 3, 4, 5] and loss.ys()[-1] == 4.5
    assert view.plots["knn_acc"].point_count("knn_acc") == 1
    qtbot.waitUntil(lambda: view.progress.value() == 5, timeout=3000)
    assert "img/s" in view.rate.text() and "ETA" in view.rate.text()
    assert max(view.latencies) < 5  # rows written just now were plotted within the poll period

    view.x_axis.setCurrentText("epoch")
    assert list(loss.xs("epoch")) == [0.25, 0.5, 0.75, 1.0, 1.25]
    view.smoothing.setValue(90)
    smooth = loss.ys(smoothed=True)
    assert smooth[0] == loss.ys()[0] and smooth[-1] > loss.ys()[-1]  # a falling curve lags when smoothed
    view.log_y.setChecked(True)
    assert view.plots["loss"].getPlotItem().ctrl.logYCheck.isChecked()
    view.shutdown()


def test_the_accuracy_plot_draws_the_methods_chance_level(qtbot, home, plugins):
    from engine import registry

    store, run_id = _fake_running_run(home, plugins)
    view = _monitor(qtbot, home)
    view.show_run(run_id)
    run = store.get_run(run_id)
    cls = registry.get("method", run.method).cls
    want = cls.accuracy_chance(run.config["method"]["params"], run.config["train"]["batch_size"])
    assert want is not None and view.plots["accuracy"].reference_values()["chance"] == want
    view.shutdown()


def test_a_crashed_run_shows_its_error_and_resumes(qtbot, home, plugins):
    store = Store(home)
    run_id = store.create_run(tiny_config(), "crasher")
    store.update_run(run_id, status="running", started=time.time() - 100, heartbeat=time.time() - 100,
                     pid=2**22 + 12345, host=__import__("socket").gethostname())  # a pid that is not alive
    view = _monitor(qtbot, home)
    view.show_run(run_id)
    qtbot.waitUntil(lambda: view.run is not None and view.run.status == "crashed", timeout=3000)
    assert view.error_panel.isVisibleTo(view)
    assert "crashed" in view.error.text() and "exited" in view.error.text()
    qtbot.mouseClick(view.resume_checkpoint, Qt.LeftButton)
    writes_done(qtbot, view)
    assert wait_status(home, run_id, ("completed", "failed"), 60) == "completed"
    qtbot.waitUntil(lambda: view.run.status == "completed" and not view.error_panel.isVisibleTo(view),
                    timeout=5000)
    view.shutdown()


def test_stop_and_pause_steer_a_real_worker(qtbot, home, plugins):
    store = Store(home)
    run_id = store.create_run(tiny_config(epochs=50, knn_every=0), "long")
    worker = spawn_worker(home, run_id)  # as the run queue's scheduler starts it
    view = _monitor(qtbot, home)
    view.show_run(run_id)
    qtbot.waitUntil(lambda: view.plots["loss"].point_count("loss") >= 2, timeout=60000)
    assert view.run.status == "running" and view.stop_button.isEnabled()
    qtbot.mouseClick(view.pause_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: "paused at step" in view.log.toPlainText(), timeout=20000)
    assert view.resume_button.isEnabled() and not view.pause_button.isEnabled()
    qtbot.mouseClick(view.resume_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.run.status == "running", timeout=5000)
    qtbot.mouseClick(view.stop_button, Qt.LeftButton)
    writes_done(qtbot, view)
    assert wait_status(home, run_id, ("stopped", "completed", "failed"), 30) == "stopped"
    qtbot.waitUntil(lambda: view.run.status == "stopped", timeout=5000)
    assert worker.wait(timeout=30) == 0  # Stop ends the worker process itself, cleanly
    assert store.run_dir(run_id).last_checkpoint.exists()
    assert store.get_run(run_id).step < 200  # 50 epochs of 4 steps: it did stop early
    view.shutdown()


def test_the_knn_plot_shows_chance_and_random_init_on_one_time_axis(qtbot, home, plugins):
    """The reference levels the worker stores before step 1 are drawn as lines; a kNN point
    logged 240 s into the run is drawn at 240 s, not at the start of its own series."""
    store, run_id = _fake_running_run(home, plugins)
    started = store.get_run(run_id).started
    view = _monitor(qtbot, home)
    view.show_run(run_id)
    store.log_metrics(run_id, [(0, 0.0, started, "knn_random_init", 0.13), (0, 0.0, started, "knn_chance", 0.1)]
                      + _rows([1, 2], started) + [(2, 0.5, started + 240, "knn_acc", 0.4)])
    knn = view.plots["knn_acc"]
    qtbot.waitUntil(lambda: knn.point_count("knn_acc") == 1, timeout=3000)
    assert knn.reference_values() == {"random init": 0.13, "chance": 0.1}
    view.x_axis.setCurrentText("time")
    assert abs(knn.series["knn_acc"].xs("time")[0] - 240) < 1e-6
    view.show_run(None)  # another run: no stale lines
    assert knn.reference_values() == {}
    view.shutdown()


def test_switching_run_resets_the_axis_ranges_and_a_deleted_run_leaves_nothing(qtbot, home, plugins):
    store, first = _fake_running_run(home, plugins)
    _, second = _fake_running_run(home, plugins)
    view = _monitor(qtbot, home)
    view.show_run(first)
    _log_and_wait(qtbot, view, store, first, [1, 2, 3])
    loss_box = view.plots["loss"].getPlotItem().getViewBox()
    loss_box.setXRange(1000, 2000)  # the user zoomed into the first run's curve
    loss_box.setYRange(50, 60)
    assert loss_box.autoRangeEnabled() == [False, False]
    view.show_run(second)
    assert loss_box.autoRangeEnabled() == [True, True]
    assert view.plots["accuracy"].point_count() == 0
    _log_and_wait(qtbot, view, store, second, [1, 2])
    view.plots["loss"].getPlotItem().getViewBox().updateAutoRange()
    (x0, x1), (y0, y1) = loss_box.viewRange()
    assert x0 <= 1 and x1 >= 2 and y0 <= 4.8 and y1 >= 4.9  # the new curve is in view
    store.delete_run(second)
    qtbot.waitUntil(lambda: view.run is None, timeout=3000)
    assert all(plot.point_count() == 0 and not plot.references for plot in view.plots.values())
    assert view.status.text() == "No run selected"
    assert view.selector.findData(second) == -1
    view.shutdown()


def test_the_system_group_shows_the_system_keys_a_run_logs_and_nothing_without(qtbot, home, plugins):
    store, with_system = _fake_running_run(home, plugins)
    _, without = _fake_running_run(home, plugins)
    view = _monitor(qtbot, home)
    view.show()
    view.show_run(without)
    _log_and_wait(qtbot, view, store, without, [1, 2])
    assert view.system.plots == {} and not view.system.isVisible()

    view.show_run(with_system)
    t = time.time()
    store.log_metrics(with_system, _rows([1, 2], t) + [
        (s, s / 4, t + s, key, value) for s in (1, 2) for key, value in (("cpu_percent", 150.0 + s), ("rss_mb", 800.0))])
    qtbot.waitUntil(lambda: view.system.plots.get("rss_mb") is not None
                    and view.system.plots["rss_mb"].point_count() == 2, timeout=3000)
    assert list(view.system.plots) == ["cpu_percent", "rss_mb"] and view.system.isVisible()
    cpu = view.system.plots["cpu_percent"]
    assert list(cpu.series["cpu_percent"].ys()) == [151.0, 152.0]
    assert cpu.getPlotItem().titleLabel.text == "CPU" and cpu.getPlotItem().getAxis("left").labelText == "%"
    assert view.system.plots["rss_mb"].getPlotItem().titleLabel.text == "Resident memory"
    store.log_metrics(with_system, [(3, 0.75, t + 3, "gpu_mem_mb", 2048.0), (3, 0.75, t + 3, "gpu_util", 97.0)])
    qtbot.waitUntil(lambda: "gpu_mem_mb" in view.system.plots, timeout=3000)
    order = [view.system.row.itemAt(i).widget().objectName() for i in range(view.system.row.count())]
    assert order == ["system_cpu_percent", "system_rss_mb", "system_gpu_util", "system_gpu_mem_mb"]
    view.x_axis.setCurrentText("time")
    assert view.system.plots["gpu_util"].x_mode == "time"
    view.show_run(without)  # back to a run with none: the group goes
    assert view.system.plots == {} and not view.system.isVisible()
    view.shutdown()
