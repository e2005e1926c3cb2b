import pytest

from engine.params import Param, ParamError, parse_assignments, resolve

SCHEMA = [
    Param("lr", "float", 0.1, low=0.0, high=10.0),
    Param("n", "int", 3, low=1, high=5),
    Param("flag", "bool", False),
    Param("opt", "choice", "sgd", choices=("sgd", "adamw")),
    Param("tasks", "list", "a,b", choices=("a", "b", "c")),
]


def test_defaults_and_parsing():
    out = resolve(SCHEMA, {"lr": "0.5", "n": "4", "flag": "yes", "opt": "adamw", "tasks": "c,a"})
    assert out == {"lr": 0.5, "n": 4, "flag": True, "opt": "adamw", "tasks": ["c", "a"]}
    assert resolve(SCHEMA, {})["tasks"] == ["a", "b"]


@pytest.mark.parametrize("values, fragment", [
    ({"bogus": 1}, "unknown parameter 'bogus'"),
    ({"lr": "abc"}, "lr must be a number"),
    ({"lr": "nan"}, "finite"),
    ({"lr": 11}, "at most 10"),
    ({"n": "2.5"}, "whole number"),
    ({"n": 0}, "at least 1"),
    ({"flag": "maybe"}, "true or false"),
    ({"opt": "adam"}, "one of sgd, adamw"),
    ({"tasks": "a,z"}, "unknown z"),
])
def test_bad_values_give_one_sentence(values, fragment):
    with pytest.raises(ParamError) as e:
        resolve(SCHEMA, values, owner="method x")
    assert fragment in str(e.value)
    assert "\n" not in str(e.value)


def test_path_and_dir(tmp_path):
    schema = [Param("root", "dir", None, optional=True), Param("file", "path", None, optional=True)]
    assert resolve(schema, {}) == {"root": None, "file": None}
    assert resolve(schema, {"root": str(tmp_path)})["root"] == str(tmp_path)
    with pytest.raises(ParamError, match="does not exist"):
        resolve(schema, {"root": str(tmp_path / "missing")})
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ParamError, match="not a folder"):
        resolve(schema, {"root": str(tmp_path / "f.txt")})


def test_assignments():
    assert parse_assignments(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(ParamError):
        parse_assignments(["novalue"])
