"""Guarantee 6: random values of random types for every parameter of every plugin (and of
training) are either accepted, and then build and run, or refused with one ParamError
sentence naming the parameter: never another exception, never a half-created run."""
import json
import math

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from engine import registry
from engine.capabilities import SampleKind
from engine.params import ParamError
from engine.training.config import TRAIN_PARAMS, build_config

pytestmark = pytest.mark.faults
registry.discover()
KIND = {"data": "dataset", "method": "method", "backbone": "backbone"}
DEFAULT_IDS = {"data": "shapes", "method": "simclr", "backbone": "convnet"}
TARGETS = [("train", "", p) for p in TRAIN_PARAMS] + [
    (section, e.id, p) for section, kind in KIND.items() for e in registry.entries(kind) for p in e.schema]
NASTY_TEXT = ["nan", "inf", "-inf", "1e309", "-0", "0x10", " 3 ", "", "  ", "True", "1,2", "3.0", "1_000",
              "'; DROP TABLE runs; --", "../../etc/passwd", "ünïcødé", "a\x00b", "\n", "None", "[]", "{}"]
TYPED = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(NASTY_TEXT), st.lists(st.one_of(st.integers(), st.text(max_size=4)), max_size=3),
    st.tuples(st.integers()), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
VALUES = st.one_of(TYPED, st.binary(max_size=4))



def near_valid(param) -> st.SearchStrategy:
    """Values around what ``param`` accepts: its bounds and just past them, its choices and
    near misses, as typed values and as the text a person would type."""
    if param.kind in ("int", "float"):
        lo = param.low if param.low is not None else -1e6
        hi = param.high if param.high is not None else 1e6
        numbers = (st.integers(int(math.floor(lo)) - 2, int(math.ceil(hi)) + 2) if param.kind == "int" else
                   st.one_of(st.floats(lo - 1, hi + 1), st.sampled_from([lo, hi, lo * 0.999, hi * 1.001])))
    elif param.kind == "choice":
        numbers = st.sampled_from([*param.choices, "", "AUTO", f"{param.choices[0]} ", "other"])
    elif param.kind == "bool":
        numbers = st.sampled_from([True, False, "yes", "off", "1", "maybe", 2])
    elif param.kind == "list":
        numbers = st.lists(st.sampled_from([*param.choices, "x"] if param.choices else ["a", "b"]), max_size=3)
    else:
        numbers = st.sampled_from([param.default, "", "x", "."])
    return st.one_of(numbers, numbers.map(str))


def _ids_and_base(section, plugin_id, root):
    ids = dict(DEFAULT_IDS)
    if section != "train":
        ids[section] = plugin_id
    if section in ("method", "backbone") and registry.get(KIND[section], plugin_id).cls.input_kind == "clip":
        ids["data"] = "moving_shapes"  # clip methods and backbones: a clip method on clip data
        if section == "backbone":
            ids["method"] = "cvrl"
    kind = registry.get(KIND[section], plugin_id).cls.input_kind if section in ("method", "backbone") else None
    if kind in ("clip+audio", "audio"):  # sound methods and the audio tower: on clips with their sound
        ids["data"] = "sounding_shapes"
        if section == "backbone":
            ids["method"], ids["backbone"] = "avc", DEFAULT_IDS["backbone"]
    if registry.compatibility_error(ids["method"], ids["backbone"]):  # MAE: a backbone it can train
        ids["backbone"] = next(b.id for b in registry.entries("backbone")
                               if registry.compatibility_error(ids["method"], b.id) is None)
    base = {}
    if any(p.name == "root" and not p.optional for p in registry.get("dataset", ids["data"]).schema):
        base["data"] = {"root": str(root)}  # so the other dataset parameters are reached
    return ids, base


def _evaluation_only(data_id: str) -> bool:
    """A dataset no method pre-trains on (sound_folder's sounds): only ``eval --data`` reads it."""
    return registry.get("dataset", data_id).cls.sample_kind == SampleKind.AUDIO


def _check_evaluation_dataset(data_id, param, value, base) -> None:
    """The evaluation path resolves such a dataset's parameters on their own."""
    try:
        got = registry.resolve_params("dataset", data_id, {**base.get("data", {}), param.name: value})[param.name]
    except ParamError as e:
        _check_refusal(e, param.name)
        return
    if param.kind in ("int", "float") and got is not None:
        assert math.isfinite(got) and (param.low is None or got >= param.low) and (param.high is None or got <= param.high)


def _check_refusal(error: ParamError, name: str) -> None:
    text = str(error)
    assert text and "\n" not in text and "Traceback" not in text, text
    assert name in text, f"the message names the parameter: {text}"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(TARGETS), data=st.data(), as_text=st.booleans())
def test_any_value_is_accepted_or_refused_in_one_sentence(tmp_path, target, data, as_text):
    """As ``--set section.name=TEXT`` (the CLI) and as a typed value (forms, stored JSON)."""
    section, plugin_id, param = target
    value = data.draw(st.one_of(VALUES, near_valid(param)), label="value")
    ids, base = _ids_and_base(section, plugin_id, tmp_path)
    if section == "data" and _evaluation_only(plugin_id):
        return _check_evaluation_dataset(plugin_id, param, value, base)
    try:
        if as_text:
            text = value.decode("latin1") if isinstance(value, bytes) else ("" if value is None else str(value))
            config = build_config(ids["data"], ids["method"], ids["backbone"], params=base,
                                  sets={f"{section}.{param.name}": text})
        else:
            params = {**base, section: {**base.get(section, {}), param.name: value}}
            config = build_config(ids["data"], ids["method"], ids["backbone"], params=params)
    except ParamError as e:
        _check_refusal(e, param.name)
        event("refused")
        return
    event("accepted")
    stored = json.loads(json.dumps(config, allow_nan=False))  # what the store keeps: plain, finite JSON
    again = build_config(ids["data"], ids["method"], ids["backbone"],
                         params={s: (stored[s] if s == "train" else stored[s]["params"]) for s in KIND | {"train": 0}})
    assert again == config, "a stored config builds the same config again (resume, clone)"
    got = config["train"][param.name] if section == "train" else config[section]["params"][param.name]
    if param.kind in ("int", "float") and got is not None:
        assert math.isfinite(got)
        assert (param.low is None or got >= param.low) and (param.high is None or got <= param.high)
    if param.kind == "choice":
        assert got in param.choices


# --- through the CLI, up to one real training step ---------------------------------------------
CLI_TARGETS = [(s, i, p) for s, i, p in TARGETS if s in ("train", "backbone", "method") and
               (s == "train" or i in ("convnet", "simclr"))]
TINY = ["--set", "train_size=32", "--set", "test_size=16", "--set", "image_size=16", "--set", "width=8",
        "--set", "knn_every=0", "--batch-size", "8", "--epochs", "1"]


def _train_once(home, capsys, monkeypatch, key: str, text: str) -> int:
    """``main.py train --set KEY=TEXT`` on a tiny config; an accepted run takes one real step."""
    from engine.cli import commands as cli
    from engine.store.database import Store
    from engine.training.trainer import Trainer

    def one_step(home_, run_id):  # instead of a whole run: build everything, take one real step
        run = Store(home_).get_run(run_id)
        trainer = Trainer(run.config, Store(home_).run_dir(run_id), Store(home_).paths.cache)
        metrics = trainer.train_step(*trainer._batch(0))
        assert math.isfinite(metrics["loss"])
        return 0

    monkeypatch.setattr(cli, "_run_foreground", one_step)
    before = len(Store(home).list_runs())
    code = cli.main(["train", "--device", "cpu", *TINY, "--set", f"{key}={text}", "--home", str(home)])
    err = capsys.readouterr().err.strip()
    if code == 2:
        assert len(err.splitlines()) == 1 and err.startswith("error:"), err
        assert len(Store(home).list_runs()) == before, "no half-created run"
    else:
        assert code == 0, err
        assert len(Store(home).list_runs()) == before + 1
    return code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(CLI_TARGETS), data=st.data())
def test_cli_set_runs_or_refuses_without_a_half_created_run(home, capsys, monkeypatch, target, data):
    section, _, param = target
    value = data.draw(st.one_of(TYPED, near_valid(param)), label="value")
    text = "" if value is None else str(value)
    assume("\x00" not in text)  # argv cannot hold NUL
    event(f"exit {_train_once(home, capsys, monkeypatch, f'{section}.{param.name}', text)}")


@pytest.mark.parametrize("key, text, code", [
    ("device", "cuda" if not __import__("torch").cuda.is_available() else "gpu", 2),  # refused before the run
    ("batch_size", "65536", 0),  # larger than the data: clamped
    ("temperature", "0.01", 0),
    ("lr", "1e-7", 0),
    ("epochs", "100000", 0),
    ("proj_dim", "8", 0),
    ("warmup_epochs", "1000", 0),
])
def test_cli_edge_values(home, capsys, monkeypatch, key, text, code):
    assert _train_once(home, capsys, monkeypatch, key, text) == code


@pytest.mark.parametrize("method", ["dino", "swav"])
def test_smallest_local_crops_run(method):
    """local_size_frac=0.1 of 32 px would be 4 px crops, which the convnet pools to nothing:
    local crops are at least 8 px."""
    import torch

    backbone = registry.create_backbone("convnet", {"width": 8}, 32)
    model = registry.create_method(method, backbone, {"local_size_frac": 0.1}, 32, None)
    x = torch.randint(0, 256, (8, 3, 32, 32), dtype=torch.uint8)
    assert torch.isfinite(model.training_step(x, None)["loss"])
