"""Contrastive Predictive Coding on images: van den Oord, Li & Vinyals (2018), in the form
of Hénaff et al. (2019, "Data-efficient image recognition with CPC")."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    ParamError,
    denormalize,
    mosaic,
    normalize,
    random_grayscale,
    register_method,
    resized_crop,
    to_float,
    upsample_to,
)


def patch_grid(x: torch.Tensor, patch: int, stride: int) -> torch.Tensor:
    """x: (N, C, H, W) -> overlapping patches (N, g, g, C, patch, patch), g = (H - patch) // stride + 1."""
    p = x.unfold(2, patch, stride).unfold(3, patch, stride)      # (N, C, g, g, patch, patch)
    return p.permute(0, 2, 3, 1, 4, 5)


class RowCausalContext(nn.Module):
    """PixelCNN-style context network over the rows of a (N, F, g, g) code map: convolutions
    padded only above, so the context at row i summarises rows <= i of every nearby column."""

    def __init__(self, dim: int, hidden: int, layers: int):
        super().__init__()
        convs, c = [], dim
        for _ in range(layers):
            convs.append(nn.Conv2d(c, hidden, (3, 3)))
            c = hidden
        self.convs = nn.ModuleList(convs)

    def forward(self, z):
        h = z
        for conv in self.convs:
            h = F.relu(conv(F.pad(h, (1, 1, 2, 0))))   # (left, right, top, bottom): causal in rows
        return h


def cpc_infonce(z: torch.Tensor, preds: list[torch.Tensor]):
    """InfoNCE over rows ahead (van den Oord et al., 2018, eq. 4).

    z: (N, F, g, g) patch codes; preds[k - 1]: (N, F, g - k, g), the prediction of z at k rows
    below each context position. Every patch of the batch is a candidate; the positive is the
    true patch. Returns (mean cross-entropy over k, {"cpc_acc": positive ranked first})."""
    n, f, g, _ = z.shape
    bank = z.permute(0, 2, 3, 1).reshape(-1, f).float()           # (N*g*g, F)
    index = torch.arange(n * g * g, device=z.device).view(n, g, g)
    losses, hits, total = [], 0, 0
    for k, pred in enumerate(preds, start=1):
        q = pred.permute(0, 2, 3, 1).reshape(-1, f).float()        # (N*(g-k)*g, F)
        target = index[:, k:, :].reshape(-1)
        logits = q @ bank.T
        losses.append(F.cross_entropy(logits, target))
        hits += (logits.argmax(1) == target).sum().item()
        total += target.numel()
    return torch.stack(losses).mean(), {"cpc_acc": hits / max(total, 1)}


@register_method
class CPC(MethodPlugin):
    id = "cpc"
    title = "Contrastive Predictive Coding"
    summary = ("The image is cut into a grid of overlapping patches, each encoded by the backbone. A "
               "context network that only looks upwards summarises the rows seen so far and predicts "
               "the codes of patches 1..K rows below, which must be picked out from all other patches "
               "in the batch (InfoNCE).")
    citation = "van den Oord, Li & Vinyals, 2018; Hénaff et al., 2019 (ICML 2020)"
    accuracy_key = "cpc_acc"
    params = [
        Param("patch_frac", "float", 0.5, "patch side as a fraction of the image (16 px at 32 px, a 3x3 grid at half-patch "
              "stride; the paper's 0.25 gives 8-px patches, too small for a backbone that reads 32-px images)", 0.1, 0.5),
        Param("patch_px", "int", 16, "patches are resized to this side for the backbone (backbones need >= 16 px)", 16, 224, unit="px"),
        Param("pred_steps", "int", 2, "predict K = 1..K rows ahead (below the number of grid rows)", 1, 10),
        Param("context_dim", "int", 128, "channels of the context network", 8, 4096),
        Param("context_layers", "int", 2, "causal convolution layers of the context network", 1, 8),
        Param("crop_min", "float", 0.6, "smallest random crop (area fraction) before cutting patches", 0.05, 1.0),
        Param("gray_p", "float", 0.8, "probability that a patch is turned grey, each patch on its own (Hénaff et al. "
              "drop colour per patch: neighbours must then be told apart by more than their shared colours)",
              0.0, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        self.patch = max(2, round(p["patch_frac"] * image_size))
        self.stride = max(1, self.patch // 2)
        self.grid = (image_size - self.patch) // self.stride + 1
        if p["pred_steps"] >= self.grid:
            raise ParamError(f"pred_steps must be below the {self.grid}-row patch grid at this image size")
        f = backbone.num_features
        self.context = RowCausalContext(f, p["context_dim"], p["context_layers"])
        self.predictors = nn.ModuleList([nn.Conv2d(p["context_dim"], f, 1, bias=False) for _ in range(p["pred_steps"])])

    def patches(self, x):
        """x: uint8 (N, 3, H, W) -> normalised patches (N, g, g, 3, p, p)."""
        img = resized_crop(to_float(x), self.image_size, (self.hparams["crop_min"], 1.0), (1.0, 1.0), 0.5, self.gen)
        pats = patch_grid(img, self.patch, self.stride)
        flat = random_grayscale(pats.reshape(-1, *pats.shape[3:]), self.hparams["gray_p"], gen=self.gen)
        return normalize(flat).view(pats.shape)

    def training_step(self, x, y=None):
        pats = self.patches(x)
        n, g = pats.shape[:2]
        flat = upsample_to(pats.reshape(n * g * g, *pats.shape[3:]), self.hparams["patch_px"])
        z = self.backbone.forward_features(flat).view(n, g, g, -1).permute(0, 3, 1, 2)   # (N, F, g, g)
        ctx = self.context(z)
        preds = [pred(ctx[:, :, : g - k]) for k, pred in enumerate(self.predictors, start=1)]
        loss, metrics = cpc_infonce(z, preds)
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def input_preview(self, x):
        pats = self.patches(x)
        n, g = pats.shape[:2]
        shown = denormalize(pats.reshape(n * g * g, *pats.shape[3:])).view(n, g * g, *pats.shape[3:])
        return {"original": to_float(x), "patch grid": mosaic(shown, g, gap=1, scale=1)}
