"""New run: plugin pickers and forms from the registry, validation through build_config,
previews off the main thread, Start launching a real worker."""
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtCore import Qt

from engine import registry
from engine.ssl.method import MethodPlugin
from engine.store.database import Store
from tests.app.conftest import fill_tiny, wait_status

PREVIEW_WAIT_MS = 800


def test_window_is_shown_before_torch_is_imported(tmp_path):
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from PySide6.QtCore import QSettings, QTimer
        QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, {str(tmp_path / 's')!r})
        from app.main import create_window
        app, w = create_window(Path({str(tmp_path / 'home')!r}))
        seen = []
        w.first_shown.connect(lambda t: seen.append("torch" in sys.modules))
        w.plugins_ready.connect(lambda: (print("torch at show:", seen[0], "ready:", w.new_run.ready), app.quit()))
        w.show()
        QTimer.singleShot(60000, app.quit)
        app.exec()
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=90,
                         env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"})
    assert "torch at show: False ready: True" in out.stdout, out.stderr


def test_pickers_and_forms_come_from_the_registry(window):
    view = window.new_run
    for section, kind in (("data", "dataset"), ("method", "method"), ("backbone", "backbone")):
        ids = [view.pickers[section].combo.itemData(i) for i in range(view.pickers[section].combo.count())]
        assert ids == [e.id for e in registry.entries(kind)]
    view.pickers["method"].set_current("simclr")
    assert set(view.forms["method"].editors) == {p.name for p in registry.get("method", "simclr").schema}
    assert "Chen" in view.pickers["method"].citation.text()
    assert view.pickers["method"].summary.text() == registry.get("method", "simclr").cls.summary
    view.pickers["backbone"].set_current("convnet")
    assert set(view.forms["backbone"].editors) == {p.name for p in registry.get("backbone", "convnet").schema}


def test_a_bad_value_disables_start_with_the_reason(window, qtbot):
    view = window.new_run
    fill_tiny(view)
    view.pickers["method"].set_current("simclr")
    assert view.start_button.isEnabled()
    temperature = view.forms["method"].editors["temperature"]
    temperature.setText("-3")
    assert not view.start_button.isEnabled()
    assert "temperature" in view.reason.text() and "at least" in view.reason.text()
    assert temperature.property("invalid") == "true"
    temperature.setText("0.2")
    assert view.start_button.isEnabled() and temperature.property("invalid") == "false"
    assert view.validate()["method"]["params"]["temperature"] == 0.2


def test_a_method_the_backbone_cannot_serve_disables_start_with_the_reason(window):
    view = window.new_run
    fill_tiny(view)  # convnet
    view.pickers["method"].set_current("mae")
    assert not view.start_button.isEnabled()
    assert view.reason.text() == ("Cannot start: method mae cannot train backbone convnet, which lacks "
                                  "masking and tokens; choose vit_small or vit_tiny")
    view.pickers["backbone"].set_current("vit_tiny")
    assert view.start_button.isEnabled(), view.reason.text()
    assert view.reason.text().startswith("Ready")
    assert view.validate()["backbone"]["id"] == "vit_tiny"


def test_previews_show_samples_and_the_method_inputs(window, qtbot):
    view = window.new_run
    fill_tiny(view)
    view.pickers["method"].set_current("simclr")
    qtbot.waitUntil(lambda: view.data_preview.last is not None
                    and view.data_preview.last.info["splits"]["train"] == 64, timeout=30000)
    assert "64 train" in view.data_preview.header.text()
    assert len(view.data_preview.grid.cells) == 24
    qtbot.waitUntil(lambda: view.augment_preview.last is not None
                    and view.augment_preview.last["original"].shape == (8, 16, 16, 3), timeout=30000)
    views = view.augment_preview.last
    assert {"original", "view 1", "view 2"} <= set(views)
    before = views["view 1"].copy()
    qtbot.mouseClick(view.augment_preview.reroll, Qt.LeftButton)
    qtbot.waitUntil(lambda: view.augment_preview.last is not views, timeout=30000)
    assert (view.augment_preview.last["original"] == views["original"]).all()
    assert not (view.augment_preview.last["view 1"] == before).all()


class BrokenPreview(MethodPlugin):
    id = "broken_preview_test"
    title = "Broken preview"
    summary = "A method whose input preview raises, to check the error is shown in place."
    citation = "test"
    params = []

    def training_step(self, x, y=None):
        return {"loss": self.backbone.forward_features(x.float()).mean()}

    def input_preview(self, x):
        raise RuntimeError("this preview is broken on purpose")


@pytest.fixture
def broken_method():
    registry.register_method(BrokenPreview)
    yield BrokenPreview.id
    registry._entries["method"].pop(BrokenPreview.id, None)


def test_a_plugin_error_in_the_preview_is_shown_not_raised(window, qtbot, broken_method):
    view = window.new_run
    view.plugins_loaded()  # pick up the extra method
    fill_tiny(view)
    view.pickers["method"].set_current(broken_method)
    qtbot.waitUntil(lambda: "broken on purpose" in view.augment_preview.last_error, timeout=30000)
    assert "broken on purpose" in view.augment_preview.status.text()
    assert view.start_button.isEnabled()  # the form itself is valid


def test_start_creates_a_run_whose_worker_completes(window, qtbot, home):
    view = window.new_run
    fill_tiny(view)
    view.pickers["method"].set_current("simclr")
    view.name.setText("gui-tiny")
    with qtbot.waitSignal(view.run_started, timeout=10000) as started:
        qtbot.mouseClick(view.start_button, Qt.LeftButton)
    run_id = started.args[0]
    assert window.tabs.currentWidget() is window.monitor
    run = Store(home).get_run(run_id)
    assert run.name == "gui-tiny" and run.config["backbone"]["params"]["width"] == 8
    assert wait_status(home, run_id, ("completed", "failed", "crashed"), 60) == "completed"
    qtbot.waitUntil(lambda: window.monitor.plots["loss"].point_count("loss") == 4, timeout=10000)
    qtbot.waitUntil(lambda: window.monitor.plots["knn_acc"].point_count() == 1, timeout=5000)
    assert window.monitor.run.status == "completed"
    assert not window.monitor.stop_button.isEnabled()


def test_last_choices_are_restored(window):
    view = window.new_run  # the window fixture stored the tiny configuration as the last one
    assert view.pickers["backbone"].current_id() == "convnet"
    assert view.forms["data"].values()["train_size"] == 64
    assert view.forms["train"].values()["batch_size"] == 16


def test_a_preset_fills_the_forms_and_the_fields_stay_editable(window):
    view = window.new_run
    view.forms["method"].editors["temperature"].setText("0.3")
    view.apply_preset("quick")
    assert view.ids() == {"data": "shapes", "method": "simclr", "backbone": "convnet"}
    assert view.preset.currentData() == "quick"
    config = view.validate()
    assert config["method"]["params"]["temperature"] == 0.5  # back to the default
    assert config["method"]["params"]["gray_p"] == 0.8 and config["backbone"]["params"]["width"] == 16
    assert (config["train"]["epochs"], config["train"]["batch_size"]) == (30, 64)
    from engine.training.config import build_config

    # Start with the quick preset trains what `python main.py train` trains (benchmarks/first_run.py)
    assert config == build_config("shapes", "simclr", "convnet", preset="quick")
    assert config["train"]["channels_last"] is True
    view.forms["train"].editors["epochs"].setText("5")
    assert view.validate()["train"]["epochs"] == 5
    view.apply_preset("paper")
    assert view.ids()["backbone"] == "resnet18" and view.validate()["train"]["epochs"] == 3


def test_a_dataset_that_cannot_load_clears_both_previews_and_says_why(window, qtbot):
    view = window.new_run
    fill_tiny(view)
    view.pickers["method"].set_current("simclr")
    qtbot.waitUntil(lambda: view.data_preview.last is not None and view.augment_preview.last is not None,
                    timeout=30000)
    assert view.data_preview.grid.cells and view.augment_preview.grid.cells
    view.pickers["data"].set_current("cifar10")  # no root folder: it cannot be loaded
    assert not view.start_button.isEnabled()
    assert view.data_preview.last is None and not view.data_preview.grid.cells
    assert "root" in view.data_preview.header.text() and view.data_preview.header.property("role") == "error"
    assert view.augment_preview.last is None and not view.augment_preview.grid.cells
    assert "root" in view.augment_preview.status.text()
    qtbot.wait(PREVIEW_WAIT_MS)  # nothing in flight brings the old images back
    assert not view.data_preview.grid.cells and not view.augment_preview.grid.cells
    view.pickers["data"].set_current("shapes")  # back: the previews come back
    fill_tiny(view)
    qtbot.waitUntil(lambda: view.data_preview.last is not None and view.augment_preview.last is not None,
                    timeout=30000)


def test_a_folder_that_does_not_exist_clears_the_data_preview(window, qtbot, tmp_path):
    view = window.new_run
    fill_tiny(view)
    qtbot.waitUntil(lambda: view.data_preview.last is not None, timeout=30000)
    view.pickers["data"].set_current("folder")
    view.forms["data"].editors["root"].setText(str(tmp_path / "missing"))
    assert view.data_preview.last is None and not view.data_preview.grid.cells
    assert "does not exist" in view.data_preview.header.text()
