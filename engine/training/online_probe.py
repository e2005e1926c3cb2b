"""An online linear probe during pre-training, as solo-learn logs it (da Costa et al., 2022):
a linear classifier trained alongside the method on features detached from the backbone, so
it reads the representation without shaping it, and logged as ``online_linear_acc``.

With labels on the pre-training split it trains on every batch (its un-augmented images);
otherwise it trains every ``every`` steps on a batch of the dataset's labeled train split.
The accuracy logged is measured on each batch before the probe learns from it, a running
estimate of held-out accuracy. Its weights are not checkpointed: a resumed run restarts it.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.data.tensors import images_to_tensor


class OnlineProbe:
    """Linear classifier on frozen-for-it features: BatchNorm without affine (He et al., 2022,
    MAE's linear probe) then a linear layer, trained with SGD + momentum."""

    def __init__(self, features_of, num_features: int, num_classes: int, device, bank=None,
                 every: int = 10, batch_size: int = 256, lr: float = 0.1, seed: int = 0):
        """features_of: (N, 3, H, W) uint8 -> (N, num_features) features, without gradients.
        bank: (images (M, 3, H, W) uint8, labels (M,)) of a labeled split, used when the
        pre-training batches carry no labels."""
        self.features_of, self.device, self.bank, self.every = features_of, device, bank, every
        self.batch_size = batch_size
        self.classifier = nn.Sequential(nn.BatchNorm1d(num_features, affine=False),
                                        nn.Linear(num_features, num_classes)).to(device)
        self.optimizer = torch.optim.SGD(self.classifier.parameters(), lr=lr, momentum=0.9)
        self.gen = torch.Generator().manual_seed(seed)

    @classmethod
    def for_trainer(cls, trainer) -> "OnlineProbe | None":
        """A probe for ``trainer`` (engine.trainer.Trainer), or None when no labels exist."""
        bank = None
        if trainer.labels is None:
            ds = trainer.dataset
            if "train" not in ds.splits or not ds.has_labels or ds.split("train").labels is None:
                return None
            split = ds.split("train")
            bank = (images_to_tensor(split.images), torch.from_numpy(split.labels))
            num_classes = max(len(split.classes), int(split.labels.max()) + 1)
        else:
            num_classes = max(trainer.method.num_classes or 0, int(trainer.labels.max()) + 1)
        method = trainer.method

        def features_of(x):
            was_training = method.training
            method.eval()  # BN running statistics of the backbone are not touched by the probe
            try:
                with torch.no_grad(), trainer._autocast():
                    return method.embed(x).float()
            finally:
                method.train(was_training)

        return cls(features_of, method.backbone.num_features, num_classes, trainer.device, bank,
                   batch_size=trainer.batch_size, seed=trainer.t["seed"])

    def _labeled_batch(self):
        images, labels = self.bank
        idx = torch.randint(len(labels), (min(self.batch_size, len(labels)),), generator=self.gen)
        return images[idx].to(self.device), labels[idx].to(self.device)

    def update(self, step: int, x: torch.Tensor, y: torch.Tensor | None) -> dict:
        """After training step ``step`` on batch x (N, 3, H, W) uint8 with labels y (N,) or None:
        one probe step; returns ``{"online_linear_acc": 0-d tensor}`` or {} on steps it skips."""
        if y is None:
            if self.bank is None or step % self.every:
                return {}
            x, y = self._labeled_batch()
        if len(y) < 2:  # BatchNorm needs two samples
            return {}
        feats = self.features_of(x).detach()
        self.classifier.train()
        logits = self.classifier(feats)
        acc = (logits.argmax(1) == y).float().mean().detach()  # read with the step's metrics (no sync here)
        loss = F.cross_entropy(logits, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return {"online_linear_acc": acc}
