"""Audio-visual methods train through the real worker: the trainer gathers each step's
waveforms beside its clips (an AVBatch), logs the method's accuracy and the kNN monitor on
clips; a clip method pre-trains on a clip+audio dataset's clips."""
from __future__ import annotations

from engine import registry
from engine.runs.worker import execute
from engine.store.database import Store
from engine.training.config import build_config

DATA = {"train_size": 24, "test_size": 12, "image_size": 16, "frames": 8, "sample_rate": 8000, "num_classes": 2}


def _run(home, method: str, method_params: dict, backbone: str = "framewise") -> str:
    registry.discover()
    cfg = build_config("sounding_shapes", method, backbone,
                       params={"data": DATA, "backbone": {"width": 8}, "method": method_params},
                       train={"epochs": 2, "batch_size": 8, "device": "cpu", "knn_every": 1})
    run_id = Store(home).create_run(cfg)
    assert execute(home, run_id) == "completed", Store(home).get_run(run_id).error
    return run_id


def test_an_audio_visual_method_trains_on_clips_with_sound(tmp_path):
    run_id = _run(tmp_path, "avc", {"audio_width": 8, "audio_mels": 16, "audio_hop_ms": 20.0})
    steps, *_, values = Store(tmp_path).metric_series(run_id, "avc_acc")
    assert len(steps) == 6 and all(0.0 <= v <= 1.0 for v in values)  # 24 clips / 8 x 2 epochs
    assert Store(tmp_path).metric_series(run_id, "knn_acc")[0]


def test_a_clip_method_pretrains_on_the_clips_of_a_clip_audio_dataset(tmp_path):
    run_id = _run(tmp_path, "slow_features", {})
    assert Store(tmp_path).metric_series(run_id, "loss")[0]
