"""Sound localisation maps (Arandjelovic & Zisserman, 2018) as an evaluation artifact: an avid
or avc (distance fusion) run evaluated with ``localisation`` stores, for a few held-out
clips, their middle frames with the cosine map of the sound embedding against every position;
the engine reader gives them back; a method without a shared space is refused in one sentence."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.evaluation.artifacts import ArtifactError, read_localisation
from engine.store.database import Store
from tests.engine.test_audio_probe import TOWER, _run, cli


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("localisation")


@pytest.mark.parametrize("method,params", [("avid", {"proj_dim": 16, "proj_hidden": 32}),
                                           ("avc", {"fusion": "distance", "fusion_hidden": 32})])
def test_an_av_run_stores_maps_over_its_frames(home, method, params, capsys):
    run_id = _run(home, method, {**TOWER, **params}, "framewise")
    assert cli("eval", run_id, "--protocol", "localisation", "--set", "clips=5", "--device", "cpu", "--json",
               "--home", home) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["results"]["clips"] == 5 and row["results"]["path"].endswith(".npz")
    maps = read_localisation(row)
    assert maps.frames.shape == (5, 16, 16, 3) and maps.frames.dtype == np.uint8
    assert maps.maps.shape[0] == 5 and maps.maps.ndim == 3 and np.isfinite(maps.maps).all()
    assert np.abs(maps.maps).max() <= 1.0 + 1e-5  # cosine similarities
    assert len(set(maps.indices)) == 5 and set(maps.labels) <= {0, 1}
    assert Store(home).artifacts(run_id, "localisation")


def test_a_method_without_a_shared_space_is_refused(home, capsys):
    run_id = _run(home, "avc", {**TOWER, "fusion": "concat"}, "framewise")
    assert cli("eval", run_id, "--protocol", "localisation", "--home", home) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "shared audio-visual space" in err[0]


def test_a_missing_artifact_reads_as_one_sentence(tmp_path):
    with pytest.raises(ArtifactError, match="missing"):
        read_localisation({"id": 3, "results": {"path": str(tmp_path / "gone.npz")}})
