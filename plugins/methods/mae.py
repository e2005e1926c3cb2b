"""MAE: masked autoencoders are scalable vision learners (He et al., 2022). A ViT encoder
sees only a random 25 % of the patches; a light decoder fills in the rest from the encoded
visible tokens and mask tokens; the loss is the pixel error on the masked patches only."""
from __future__ import annotations

import torch
from torch import nn

from engine.api import (
    Block,
    Capability,
    MethodPlugin,
    Param,
    ParamError,
    ViewRecipe,
    denormalize,
    init_transformer_weights,
    normalize,
    register_method,
    to_float,
)


def normalized_patches(target: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """target: (N, L, P) -> each patch standardised by its own mean and variance (MAE's
    ``norm_pix_loss``)."""
    mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
    return (target - mean) / (var + eps).sqrt()


def mae_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, norm_pix: bool = True):
    """Mean squared error on the masked patches only.

    pred, target: (N, L, P) predicted and true patches (P = p*p*3 pixels); mask: (N, L), 1
    for masked (hidden) patches and 0 for visible ones. Visible patches do not count, so the
    task cannot be solved by copying. Returns ``(loss, {"recon_loss": loss})``."""
    if norm_pix:
        target = normalized_patches(target)
    per_patch = (pred.float() - target.float()).pow(2).mean(-1)
    mask = mask.float()
    loss = (per_patch * mask).sum() / mask.sum().clamp_min(1.0)
    return loss, {"recon_loss": loss.item()}


def random_masking(n: int, length: int, ratio: float, gen: torch.Generator, device=None):
    """Per-image uniform random masks. Returns keep_idx (N, K) of the visible patches,
    restore (N, L) that undoes the shuffle, and mask (N, L) with 1 on hidden patches;
    K = round(L * (1 - ratio)), at least 1."""
    keep = max(1, int(round(length * (1 - ratio))))
    shuffle = torch.argsort(torch.rand(n, length, generator=gen), dim=1)
    restore = torch.argsort(shuffle, dim=1)
    mask = torch.ones(n, length)
    mask[:, :keep] = 0
    mask = torch.gather(mask, 1, restore)
    return shuffle[:, :keep].to(device), restore.to(device), mask.to(device)


class MAEDecoder(nn.Module):
    """Encoded visible tokens + mask tokens, back in image order, through a few transformer
    blocks to pixel predictions for every patch."""

    def __init__(self, enc_dim: int, dim: int, depth: int, heads: int, num_patches: int, patch_pixels: int):
        super().__init__()
        self.embed = nn.Linear(enc_dim, dim)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 1 + num_patches, dim))
        self.blocks = nn.ModuleList([Block(dim, heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pred = nn.Linear(dim, patch_pixels)
        self.apply(init_transformer_weights)
        nn.init.trunc_normal_(self.pos, std=0.02)
        nn.init.normal_(self.mask_token, std=0.02)

    def forward(self, encoded: torch.Tensor, restore: torch.Tensor) -> torch.Tensor:
        """encoded: (N, 1 + K, enc_dim) cls + visible tokens; restore: (N, L) -> (N, L, P)."""
        t = self.embed(encoded)
        n, length = restore.shape
        masked = self.mask_token.expand(n, length + 1 - t.shape[1], -1)
        patches = torch.cat([t[:, 1:], masked], dim=1)
        patches = torch.gather(patches, 1, restore.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
        t = torch.cat([t[:, :1], patches], dim=1) + self.pos
        for block in self.blocks:
            t = block(t)
        return self.pred(self.norm(t))[:, 1:]


@register_method
class MAE(MethodPlugin):
    id = "mae"
    title = "MAE"
    summary = ("Masked autoencoder: most patches of each image (75 %) are hidden, the ViT encoder sees "
               "only the visible ones, and a small transformer decoder reconstructs the hidden patches' "
               "pixels. Only random crops and flips as augmentation. Needs a ViT backbone (vit_tiny, "
               "vit_small).")
    citation = "He, Chen, Xie, Li, Dollar & Girshick, 2022 (CVPR)"
    accuracy_key = "recon_loss"
    requires = frozenset({Capability.TOKENS, Capability.MASKING})
    params = [
        Param("mask_ratio", "float", 0.75, "fraction of patches hidden from the encoder", 0.05, 0.95),
        Param("norm_pix_loss", "bool", True, "targets are each patch's pixels standardised by its own mean and std"),
        Param("decoder_dim", "int", 128, "token width of the decoder (512 in the paper)", 16, 2048),
        Param("decoder_depth", "int", 2, "transformer blocks in the decoder (8 in the paper)", 1, 24),
        Param("decoder_heads", "int", 4, "attention heads of the decoder", 1, 32),
        Param("crop_min", "float", 0.2, "smallest random crop, as a fraction of the image area", 0.01, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        if not MAE.requires <= backbone.capabilities:  # built directly, without build_config
            raise ParamError(f"MAE needs a ViT backbone (vit_tiny or vit_small), not {type(backbone).__name__}, "
                             f"because it encodes only the visible patches")
        if p["decoder_dim"] % p["decoder_heads"]:
            raise ParamError(f"decoder_dim {p['decoder_dim']} must be divisible by decoder_heads {p['decoder_heads']}")
        super().__init__(backbone, image_size, num_classes, **p)
        self.recipe = ViewRecipe(image_size, crop_min=p["crop_min"], jitter_p=0.0, gray_p=0.0)
        pix = backbone.patch_size ** 2 * 3
        self.decoder = MAEDecoder(backbone.num_features, p["decoder_dim"], p["decoder_depth"],
                                  p["decoder_heads"], backbone.num_patches, pix)

    def _predict(self, x: torch.Tensor):
        """x: (N, 3, H, W) normalised -> (pred, target, mask) as in ``mae_loss``."""
        target = self.backbone.patchify(x)
        n, length, _ = target.shape
        keep, restore, mask = random_masking(n, length, self.hparams["mask_ratio"], self.gen, x.device)
        pred = self.decoder(self.backbone.forward_visible(x, keep), restore)
        return pred, target, mask

    def training_step(self, x, y=None):
        pred, target, mask = self._predict(self.recipe(x, self.gen))
        loss, metrics = mae_loss(pred, target, mask, self.hparams["norm_pix_loss"])
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def _views(self, x: torch.Tensor):
        xn = normalize(to_float(x))
        pred, target, mask = self._predict(xn)
        if self.hparams["norm_pix_loss"]:  # back to pixels with each true patch's statistics
            mean, var = target.mean(-1, keepdim=True), target.var(-1, keepdim=True)
            pred = pred * (var + 1e-6).sqrt() + mean
        hidden = mask.bool().unsqueeze(-1)
        recon = torch.where(hidden, pred.to(target.dtype), target)
        unpatch = self.backbone.unpatchify
        masked = unpatch(torch.where(hidden, torch.zeros_like(target), target))
        return denormalize(unpatch(recon)), denormalize(masked), hidden

    @torch.no_grad()
    def predict_reconstruction(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) uint8 -> (N, 3, H, W) float in [0, 1]: a fresh random mask, the
        predicted hidden patches with the visible patches pasted back."""
        return self._views(x)[0]

    @torch.no_grad()
    def input_preview(self, x):
        recon, masked, _ = self._views(x)
        return {"original": x.float() / 255, "masked input": masked, "reconstruction": recon}
