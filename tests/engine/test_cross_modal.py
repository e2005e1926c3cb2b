"""Sound evaluation: cross-modal recall@k counts a query's own partner, localisation maps are
cosine similarities per position, and evaluate_sound stores an audio probe and retrieval."""
import torch

from engine import registry
from engine.evaluation.cross_modal import (
    cross_modal_recall,
    evaluate_sound,
    localisation_maps,
)
from engine.store.database import Store


def test_recall_counts_the_own_partner():
    v = torch.eye(12)
    perfect = cross_modal_recall(v, v.clone())
    assert perfect["frame_to_sound_R@1"] == 1.0 and perfect["sound_to_frame_R@1"] == 1.0
    shuffled = cross_modal_recall(v, v[torch.roll(torch.arange(12), 1)])
    assert shuffled["frame_to_sound_R@1"] == 0.0 and shuffled["frame_to_sound_R@5"] == 1.0  # own partner ranked 2nd
    assert shuffled["queries"] == 12


def test_localisation_is_cosine_per_position():
    fmap = torch.zeros(1, 4, 2, 2)
    fmap[0, :, 0, 1] = torch.tensor([1.0, 0, 0, 0])
    fmap[0, :, 1, 0] = torch.tensor([0, 1.0, 0, 0])
    m = localisation_maps(fmap, torch.tensor([[2.0, 0, 0, 0]]))
    assert m.shape == (1, 2, 2) and float(m[0, 0, 1]) == 1.0 and float(m[0, 1, 0]) == 0.0


def test_evaluate_sound_stores_probe_and_retrieval(tmp_path):
    registry.discover()
    ds = registry.create_dataset("sounding_shapes", {"image_size": 16, "train_size": 16, "test_size": 12,
                                                     "sample_rate": 8000, "num_classes": 2})
    backbone = registry.create_backbone("framewise", {"width": 8}, 16)
    method = registry.create_method("avid", backbone, {"audio_width": 8, "audio_mels": 16}, 16, 2)
    store = Store(tmp_path)
    from engine.training.config import build_config
    run_id = store.create_run(build_config("sounding_shapes", "avid", "framewise"))
    out = evaluate_sound(method, ds.split("train"), ds.split("test"), store=store, run_id=run_id,
                         dataset_id="sounding_shapes")
    assert 0.0 <= out["audio_probe"]["accuracy"] <= 1.0
    assert set(out["cross_modal_retrieval"]) >= {"frame_to_sound_R@1", "sound_to_frame_R@5", "sound_to_frame_R@10"}
    assert {e["protocol"] for e in store.evals(run_id)} == {"audio_probe", "cross_modal_retrieval"}
