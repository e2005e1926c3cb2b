"""One mapping from a logged key to its title and unit, with a rule for keys it does not list;
parameters carry their unit and format their values with it."""
from engine.metric_labels import metric_label, metric_title
from engine.params import Param


def test_known_keys_have_readable_titles_and_units():
    assert metric_title("contrastive_acc") == "Contrastive accuracy"
    assert metric_title("knn_acc") == "kNN accuracy" and metric_title("lr") == "Learning rate"
    assert metric_label("rss_mb").axis == "Resident memory (MB)"
    assert metric_label("gpu_util").unit == "%" and metric_label("loss").unit == ""


def test_unknown_keys_read_by_rule():
    assert metric_title("patch_order_acc") == "Patch order accuracy"
    assert metric_label("queue_mb") == metric_label("queue_mb")
    assert (metric_label("queue_mb").title, metric_label("queue_mb").unit) == ("Queue", "MB")
    assert metric_title("entropy") == "Entropy"


def test_a_param_formats_its_value_with_its_unit():
    assert Param("max_rotation", "float", 180.0, unit="°").format(180.0) == "180°"
    assert Param("image_size", "int", 32, unit="px").format(32) == "32 px"
    assert Param("lr", "float", 0.3).format(0.3) == "0.3"
    assert Param("flip", "bool", True).format(False) == "false"
    assert Param("max_rotation", "float", 180.0, unit="°").to_json()["unit"] == "°"


def test_the_plugins_angle_and_pixel_params_have_units(registry):
    shapes = {p.name: p for p in registry.get("dataset", "shapes").schema}
    assert shapes["max_rotation"].unit == "°" and shapes["image_size"].unit == "px"
    assert {p.name: p for p in registry.get("backbone", "vit_tiny").schema}["patch_size"].unit == "px"


def test_the_shapes_description_states_no_class_count_the_field_may_contradict(registry):
    import re

    summary = registry.get("dataset", "shapes").cls.summary
    assert not re.search(r"\d+ classes", summary), summary
    assert "num_classes" in summary
