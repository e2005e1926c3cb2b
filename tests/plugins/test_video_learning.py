"""Video methods learn their pretext task: shuffle & learn's order verification rises well
above chance after a short training on moving_shapes (growing and shrinking shapes, whose
order is the size's), measured on held-out clips."""
import torch

from engine import registry
from engine.data.tensors import images_to_tensor

DATA = {"image_size": 16, "frames": 8, "train_size": 256, "test_size": 128, "speed": 0.5,
        "background": "plain", "motions": "scales"}


def test_shuffle_and_learn_learns_order_verification(tmp_path):
    torch.manual_seed(0)
    ds = registry.create_dataset("moving_shapes", DATA, tmp_path)
    x, held_out = images_to_tensor(ds.split("unlabeled").images), images_to_tensor(ds.split("test").images)
    backbone = registry.create_backbone("r2plus1d", {"width": 8}, 16)
    method = registry.create_method("shuffle_learn", backbone, {"grid": 1, "head_hidden": 256, "crop_min": 1.0}, 16)
    method.set_seed(0)
    opt = torch.optim.AdamW(method.parameters(), 1e-3)
    for _ in range(300):
        out = method.training_step(x[torch.randint(len(x), (64,))])
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    method.eval()
    with torch.no_grad():
        acc = sum(method.training_step(held_out)["order_acc"].item() for _ in range(4)) / 4
    # 4 x 128 held-out decisions: chance gives 0.50 +- 0.022, so 0.62 is over five standard
    # deviations above it. Measured 0.78 here and 0.70 on the CI machine (its float path
    # differs); a tighter bar tests the hardware, not the method.
    assert acc > 0.62, f"order accuracy {acc:.2f} after 300 steps (chance 0.5)"
