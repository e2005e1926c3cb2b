"""Plot text: titles are readable names of the metric, not its key; the few-shot axis ticks
are the shot counts and read as percent like its label; a unit shows beside its field."""
from app.plots.fewshot_plot import FewShotPlot
from app.views.monitor_view import MonitorView
from app.widgets.param_form import ParamForm
from engine.store.database import Store
from tests.app.conftest import tiny_config

SHOTS = (1, 2, 4, 8, 16, 32, 64, 96)


def _labels(plot, side):
    """The tick labels the axis draws, in order."""
    from PySide6.QtGui import QImage, QPainter

    image = QImage(800, 600, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = plot.getPlotItem().getAxis(side).generateDrawSpecs(painter)
    finally:
        painter.end()
    texts = [(rect.center().x() if side == "bottom" else -rect.center().y(), text) for rect, _, text in specs[2]]
    return [t for _, t in sorted(texts)]


def test_the_fewshot_ticks_are_the_shot_counts_and_percent(qtbot):
    plot = FewShotPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    results = {"per_k": {str(k): {"mean": 0.1 + 0.008 * k, "std": 0.02} for k in SHOTS}}
    plot.set_series([("run", 0, results)])
    qtbot.wait(100)  # the view box ranges itself on the next events
    assert _labels(plot, "bottom") == [str(k) for k in SHOTS]  # no 0.9, 3, 5, 6, 7 ... between them
    y = _labels(plot, "left")
    assert y and all(s.endswith(" %") for s in y)
    assert max(float(s[:-2]) for s in y) >= 50  # percent, as the data (10.8 ... 86.8), not fractions
    plot.set_series([("run", 0, {"per_k": {str(k): {"mean": 0.05 + 0.001 * k, "std": 0.01} for k in SHOTS}})])
    qtbot.wait(100)
    assert len(_labels(plot, "left")) >= 2  # a narrow range (4 ... 16 %) still has labelled ticks
    assert plot.getPlotItem().getAxis("left").labelText == "top-1 accuracy"


def test_monitor_titles_are_readable_names(qtbot, home, plugins):
    store = Store(home)
    run_id = store.create_run(tiny_config(), "titles")
    view = MonitorView(home)
    qtbot.addWidget(view)
    view.show_run(run_id)
    titles = {k: p.getPlotItem().titleLabel.text for k, p in view.plots.items()}
    assert titles == {"loss": "Loss", "accuracy": "Contrastive accuracy", "lr": "Learning rate",
                      "knn_acc": "kNN accuracy"}
    view.shutdown()


def test_a_unit_shows_beside_its_field(qtbot, plugins):
    from PySide6.QtWidgets import QLabel

    form = ParamForm(plugins.get("dataset", "shapes").schema)
    qtbot.addWidget(form)
    form.set_values({"max_rotation": 180.0})
    assert form.findChild(QLabel, "unit_max_rotation").text() == "°"
    assert form.editors["max_rotation"].text() == "180"
    assert form.findChild(QLabel, "unit_image_size").text() == "px"
    assert form.values()["max_rotation"] == 180.0


def test_accuracy_axes_show_plain_numbers(qtbot):
    """0.45-0.76 reads as such, not 450-760 with "(x0.001)" (pyqtgraph 0.14 ignores
    enableAutoSIPrefix(False) alone)."""
    from app.plots.scaling_plot import ScalingPlot
    from engine.sweeps.scaling import Curve, Point, Scaling

    plot = ScalingPlot()
    qtbot.addWidget(plot)
    plot.resize(600, 400)
    plot.show()
    points = (Point(250, 0.456, 0.018, 2), Point(1000, 0.585, 0.003, 2), Point(4000, 0.761, 0.0, 1))
    plot.show_scaling(Scaling(1, "svm acc", "data.train_size", None, (Curve(None, points),), 0.265, True, True, 0))
    qtbot.wait(50)
    axis = plot.getPlotItem().getAxis("left")
    assert axis.autoSIPrefixScale == 1.0 and "x0.001" not in axis.labelString()
    labels = [float(t) for t in _labels(plot, "left") if t]
    assert labels and max(labels) < 1.0
