"""Context encoders: feature learning by inpainting (Pathak, Krähenbühl, Donahue, Darrell &
Efros, 2016)."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from engine.api import (
    MethodPlugin,
    Param,
    normalize,
    register_method,
    resized_crop,
    stage_shapes,
    to_float,
)


def square_masks(n: int, size: int, kind: str, frac: float, blocks: int, gen) -> torch.Tensor:
    """(n, 1, size, size) float masks, 1 = hole. ``center``: one centred square of side
    frac * size (1/2 in the paper); ``blocks``: ``blocks`` squares of side frac * size / 2 at
    random places (the paper's random-block masks cover up to 1/4 of the image)."""
    masks = torch.zeros(n, 1, size, size)
    if kind == "center":
        side = max(1, round(frac * size))
        start = (size - side) // 2
        masks[:, :, start:start + side, start:start + side] = 1
        return masks
    side = max(1, round(frac * size / 2))
    tops = torch.randint(0, size - side + 1, (n, blocks), generator=gen)
    lefts = torch.randint(0, size - side + 1, (n, blocks), generator=gen)
    ar = torch.arange(size)
    rows = (ar.view(1, 1, -1) >= tops[..., None]) & (ar.view(1, 1, -1) < tops[..., None] + side)   # (n, B, S)
    cols = (ar.view(1, 1, -1) >= lefts[..., None]) & (ar.view(1, 1, -1) < lefts[..., None] + side)
    return (rows[..., :, None] & cols[..., None, :]).any(1, keepdim=True).float()


def masked_l2(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor):
    """pred, target: (N, 3, H, W) in [0, 1]; mask: (N, 1, H, W), 1 = hole ->
    (mean squared error over the hole pixels, {"inpaint_psnr"} in dB for a peak of 1)."""
    err = ((pred.float() - target.float()) ** 2 * mask).sum() / (mask.sum() * pred.shape[1]).clamp(min=1)
    return err, {"inpaint_psnr": 10 * math.log10(1.0 / max(err.item(), 1e-10))}


def adversarial_terms(disc: nn.Module, real: torch.Tensor, fake: torch.Tensor):
    """Non-saturating GAN losses that can share one backward pass and one optimizer.

    The generator term scores ``fake`` with detached copies of the discriminator's weights, so
    its gradient reaches only the generator; the discriminator term scores ``fake.detach()``,
    so its gradient reaches only the discriminator. Summing both into the loss therefore
    trains each side on its own objective. real, fake: (N, 3, H, W) -> (g_loss, d_loss)."""
    frozen = {name: p.detach() for name, p in disc.named_parameters()}
    g_loss = F.softplus(-functional_call(disc, frozen, (fake,))).mean()
    d_loss = F.softplus(-disc(real)).mean() + F.softplus(disc(fake.detach())).mean()
    return g_loss, d_loss


class ChannelwiseFC(nn.Module):
    """Pathak et al.'s channel-wise fully connected bottleneck: each channel's h*w map is
    mixed by its own dense layer, so every position sees the whole context cheaply.
    (N, C, h, w) -> (N, C, h, w)."""

    def __init__(self, channels: int, positions: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(channels, positions, positions) / math.sqrt(positions))
        self.bias = nn.Parameter(torch.zeros(channels, positions))

    def forward(self, x):
        n, c, h, w = x.shape
        y = torch.einsum("ncp,cpq->ncq", x.flatten(2), self.weight.to(x.dtype)) + self.bias.to(x.dtype)
        return F.relu(y).view(n, c, h, w)


def _up(cin, cout):
    return nn.Sequential(nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


def _discriminator(width: int) -> nn.Sequential:
    layers, c = [], 3
    for i in range(3):
        layers += [nn.Conv2d(c, width * 2 ** i, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        c = width * 2 ** i
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 1))


@register_method
class Inpainting(MethodPlugin):
    id = "inpainting"
    title = "Inpainting (context encoder)"
    summary = ("A square hole (the centre, or random blocks) is cut out of each image; the backbone "
               "encodes what is left and an up-convolutional decoder paints the hole back, trained "
               "with an L2 loss on the hole and optionally an adversarial loss that makes the fill "
               "look real rather than blurry.")
    citation = "Pathak, Krähenbühl, Donahue, Darrell & Efros, 2016 (CVPR)"
    accuracy_key = "inpaint_psnr"
    params = [
        Param("mask", "choice", "center", "hole shape: a central square or random blocks", choices=("center", "blocks")),
        Param("mask_frac", "float", 0.5, "hole side as a fraction of the image (blocks: twice each block's side)", 0.1, 0.9),
        Param("blocks", "int", 4, "number of random blocks (mask=blocks)", 1, 32),
        Param("channel_fc", "bool", True, "channel-wise fully connected layer between encoder and decoder"),
        Param("decoder_width", "int", 64, "channels after the first up-convolution (halved each step, at least 16)", 8, 1024),
        Param("adv_weight", "float", 0.0, "weight lambda of the adversarial term (0: off; 0.001 in the paper)", 0.0, 1.0),
        Param("disc_width", "int", 32, "channels of the discriminator's first layer (when adv_weight > 0)", 8, 512),
        Param("crop_min", "float", 0.6, "smallest random crop (area fraction) of the training images", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        c, h, w = stage_shapes(backbone, image_size)[-1]
        self.bottleneck = ChannelwiseFC(c, h * w) if p["channel_fc"] else nn.Identity()
        ups, width, layers = max(0, round(math.log2(image_size / h))), p["decoder_width"], []
        for i in range(ups):
            out = max(16, width // 2 ** i)
            layers.append(_up(c, out))
            c = out
        self.decoder = nn.Sequential(*layers, nn.Conv2d(c, 3, 3, padding=1))
        self.disc = _discriminator(p["disc_width"]) if p["adv_weight"] > 0 else None

    def masks(self, n, device):
        p = self.hparams
        return square_masks(n, self.image_size, p["mask"], p["mask_frac"], p["blocks"], self.gen).to(device)

    def reconstruct(self, img, mask):
        """img: (N, 3, H, W) in [0, 1]; mask: (N, 1, H, W) -> predicted image (N, 3, H, W) in [0, 1].
        The hole is filled with zeros after normalisation, i.e. the dataset mean colour."""
        code = self.bottleneck(self.backbone.stages(normalize(img) * (1 - mask))[-1])
        out = self.decoder(code)
        if out.shape[-1] != img.shape[-1]:
            out = F.interpolate(out, size=img.shape[-2:], mode="bilinear", align_corners=False)
        return torch.sigmoid(out)

    def training_step(self, x, y=None):
        img = resized_crop(to_float(x), self.image_size, (self.hparams["crop_min"], 1.0), (1.0, 1.0), 0.5, self.gen)
        mask = self.masks(x.shape[0], x.device)
        pred = self.reconstruct(img, mask)
        loss, metrics = masked_l2(pred, img, mask)
        metrics["inpaint_l2"] = loss.item()
        if self.disc is not None:
            filled = img * (1 - mask) + pred * mask
            g_loss, d_loss = adversarial_terms(self.disc, normalize(img), normalize(filled))
            loss = loss + self.hparams["adv_weight"] * g_loss + d_loss
            metrics.update(adv_g=g_loss.item(), adv_d=d_loss.item())
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def predict_fill(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """x: uint8 (N, 3, H, W) -> (N, 3, H, W) in [0, 1]: the image with its hole (``mask``
        (N, 1, H, W), else one drawn as in training) replaced by the prediction."""
        img = to_float(x)
        mask = self.masks(x.shape[0], x.device) if mask is None else mask.to(img.dtype)
        return img * (1 - mask) + self.reconstruct(img, mask) * mask

    @torch.no_grad()
    def input_preview(self, x):
        img = to_float(x)
        mask = self.masks(x.shape[0], x.device)
        return {"original": img, "masked": img * (1 - mask) + 0.5 * mask, "filled": self.predict_fill(x, mask)}
