"""Evaluate view, sound: after an evaluation of an avid run with the localisation protocol
(run by the real engine process), the "Sound maps" tab shows the run's heat maps over its
held-out frames; the figure saves as PNG and SVG."""
import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.views.evaluate_view import EvaluateView
from app.widgets.localisation_grid import colour_map
from engine.store.database import Store
from engine.training.config import build_config

DATA = {"train_size": 24, "test_size": 12, "image_size": 16, "frames": 8, "sample_rate": 8000, "num_classes": 2}
METHOD = {"audio_width": 8, "audio_mels": 16, "audio_hop_ms": 20.0, "proj_dim": 16, "proj_hidden": 32}


@pytest.fixture
def avid_run(home, plugins):
    from engine.runs.worker import execute

    cfg = build_config("sounding_shapes", "avid", "framewise",
                       params={"data": DATA, "backbone": {"width": 8}, "method": METHOD},
                       train={"epochs": 1, "batch_size": 8, "device": "cpu", "knn_every": 0})
    store = Store(home)
    run_id = store.create_run(cfg, "tiny avid")
    store.close()
    assert execute(home, run_id) == "completed"
    return run_id


def test_the_view_draws_the_maps_after_an_evaluation(qtbot, home, plugins, avid_run, tmp_path):
    view = EvaluateView(home)
    qtbot.addWidget(view)
    view.plugins_loaded()
    view.resize(1200, 800)
    view.show()
    try:
        view.setup.check_runs([avid_run])
        for pid, check in view.setup.protocol_checks.items():
            check.setChecked(pid == "localisation")
        view.setup.protocol_forms["localisation"].set_values({"clips": "4"})
        qtbot.mouseClick(view.evaluate_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: view.job is None and view.sound_maps.map_count() == 4, timeout=120000)
        assert "stored" in view.message.text(), view.message.text()
        view.plots.setCurrentWidget(view.sound_maps)
        cells = view.sound_maps.canvas.findChildren(type(view.sound_maps.status), "localisation_cell")
        assert len(cells) == 4 and not cells[0].pixmap().isNull() and cells[0].isVisible()
        files = view.sound_maps.save(tmp_path / "maps")
        assert [f.suffix for f in files] == [".png", ".svg"] and files[0].stat().st_size > 1000
    finally:
        view.shutdown()


def test_the_colour_map_spreads_each_map_over_the_ramp():
    rgba = colour_map(np.array([[0.1, 0.2], [0.3, 0.4]]))
    assert rgba.shape == (2, 2, 4) and rgba.dtype == np.uint8
    assert tuple(rgba[0, 0, :3]) == (68, 1, 84) and tuple(rgba[1, 1, :3]) == (253, 231, 37)
    assert (colour_map(np.zeros((3, 3)))[..., 3] > 0).all()  # a flat map still draws
