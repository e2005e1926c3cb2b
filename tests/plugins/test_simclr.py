import math

import torch
import torch.nn.functional as F

from engine.ssl.metrics import contrastive_accuracy
from plugins.methods.simclr import nt_xent_loss


def _reference_nt_xent(z1, z2, t):
    """The loss written out anchor by anchor (Chen et al., 2020, eq. 1)."""
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n2 = z.shape[0]
    n = n2 // 2
    total = 0.0
    for i in range(n2):
        j = (i + n) % n2
        sims = torch.stack([z[i] @ z[k] / t for k in range(n2) if k != i])
        pos = z[i] @ z[j] / t
        total += -(pos - torch.logsumexp(sims, 0))
    return total / n2


def test_nt_xent_matches_the_anchor_by_anchor_definition():
    torch.manual_seed(0)
    z1, z2 = torch.randn(6, 5), torch.randn(6, 5)
    loss, metrics = nt_xent_loss(z1, z2, 0.5)
    assert torch.allclose(loss, _reference_nt_xent(z1, z2, 0.5), atol=1e-5)
    assert metrics == {}


def test_contrastive_accuracy_ranks_the_positive_among_the_2n_minus_1_candidates():
    """SimCLR's contrastive accuracy: the positive must beat the same view's other embeddings
    too, as in NT-Xent's logits (not only the other view's N)."""
    torch.manual_seed(0)
    for _ in range(20):
        z1, z2 = torch.randn(8, 4), torch.randn(8, 4)
        z = F.normalize(torch.cat([z1, z2]), dim=1)
        sim = z @ z.T
        sim.fill_diagonal_(float("-inf"))
        target = torch.cat([torch.arange(8, 16), torch.arange(8)])
        want = (sim.argmax(1) == target).float().mean()
        assert torch.is_tensor(contrastive_accuracy(z1, z2))
        assert torch.isclose(contrastive_accuracy(z1, z2), want)
    # the pairs match across views, but each view-1 anchor's nearest is a same-view neighbour
    base = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    z1 = torch.cat([base, base + 0.01])
    z2 = z1 + torch.tensor([[0.0, 0.3], [0.3, 0.0], [0.0, 0.3], [0.3, 0.0]])
    assert float(contrastive_accuracy(z1, z2)) < 0.5


def test_aligned_pairs_give_low_loss_and_perfect_accuracy():
    z = torch.eye(8) * 3
    loss, _ = nt_xent_loss(z, z.clone(), 0.1)
    assert float(contrastive_accuracy(z, z.clone())) == 1.0
    assert loss.item() < 0.01
    rand_loss, _ = nt_xent_loss(torch.randn(8, 8), torch.randn(8, 8), 0.1)
    assert rand_loss > loss
    # 2N - 1 candidates: with all similarities equal the loss is log(2N - 1)
    same = torch.ones(4, 3)
    loss_same, _ = nt_xent_loss(same, same, 1.0)
    assert math.isclose(loss_same.item(), math.log(7), rel_tol=1e-5)


def test_simclr_learns_on_shapes(home):
    """Contrastive accuracy rises well above chance (1/(2N - 1)) and the loss falls."""
    from engine.runs.worker import execute
    from engine.store.database import Store
    from engine.training.config import build_config

    torch.set_num_threads(2)
    cfg = build_config("shapes", "simclr", "convnet", train={
        "epochs": 6, "batch_size": 64, "optimizer": "adamw", "lr": 3e-3, "weight_decay": 1e-4,
        "warmup_epochs": 0.5, "knn_every": 0},
        sets={"train_size": "512", "test_size": "64", "image_size": "16", "width": "16", "temperature": "0.2"})
    store = Store(home)
    run_id = store.create_run(cfg)
    assert execute(home, run_id) == "completed"
    steps, _, _, loss = store.metric_series(run_id, "loss")
    _, _, _, acc = store.metric_series(run_id, "contrastive_acc")
    assert len(loss) == 6 * 8
    first, last = sum(loss[:5]) / 5, sum(loss[-5:]) / 5
    assert last < first - 0.3, (first, last, acc)
    chance = 1 / (2 * 64 - 1)  # SimCLR's contrastive accuracy: the positive among 2N - 1
    assert sum(acc[-5:]) / 5 > 6 * chance, acc[-5:]
