"""Vision Transformers (Dosovitskiy et al., 2021) in the DeiT sizes (Touvron et al., 2021),
with small patches for small images (patch 4 on 32 px gives an 8x8 token grid).

Besides the backbone contract (``num_features``, ``forward_features``, ``stages``) they
declare ``Capability.TOKENS`` (``patch_size``, ``num_patches``, ``patchify``/``unpatchify``)
and ``Capability.MASKING``: ``forward_visible(x, keep_idx)`` encodes only the kept patches,
as masked image modelling needs (He et al., 2022, MAE).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    BackboneBase,
    Block,
    Capability,
    Param,
    ParamError,
    init_transformer_weights,
    register_backbone,
)


class _ViT(BackboneBase):
    embed_dim = 0
    heads = 0
    default_depth = 12
    params = [
        Param("patch_size", "int", 4, "side of the square patches, in pixels (16 at 224 px; 4 at 32 px)", 1, 64, unit="px"),
        Param("depth", "int", 12, "number of transformer blocks (12 in DeiT; fewer for quick tests)", 1, 48),
        Param("pool", "choice", "cls", "the image's feature: the cls token (DeiT, DINO) or the mean of the "
              "patch tokens (avg: MAE, whose objective never trains the cls token)", choices=("cls", "avg")),
    ]
    capabilities = frozenset({Capability.TOKENS, Capability.MASKING})

    def __init__(self, image_size: int = 32, patch_size: int = 4, depth: int = 12, pool: str = "cls"):
        super().__init__()
        if image_size % patch_size:
            raise ParamError(f"image size {image_size} is not divisible by the ViT patch size {patch_size}; "
                             f"pick a patch size that divides it")
        self.image_size, self.patch_size, self.depth, self.pool = image_size, patch_size, depth, pool
        self.grid = image_size // patch_size
        self.num_patches = self.grid ** 2
        d = self.embed_dim
        self.patch_embed = nn.Conv2d(3, d, patch_size, patch_size)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + self.num_patches, d))
        self.blocks = nn.ModuleList([Block(d, self.heads) for _ in range(depth)])
        self.norm = nn.LayerNorm(d, eps=1e-6)
        self.num_features = d
        self.apply(init_transformer_weights)
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        w = self.patch_embed.weight.data  # like a linear layer on the flattened patch (MAE)
        nn.init.xavier_uniform_(w.view(w.shape[0], -1))

    # --- tokens ------------------------------------------------------------------------------
    def _grid_of(self, x: torch.Tensor) -> tuple[int, int]:
        h, w = x.shape[-2:]
        if h % self.patch_size or w % self.patch_size:
            raise ValueError(f"input of {h}x{w} px is not divisible by the ViT patch size {self.patch_size}")
        return h // self.patch_size, w // self.patch_size

    def _patch_pos(self, gh: int, gw: int) -> torch.Tensor:
        """(1, gh*gw, D) patch position embeddings, bicubically resized for other input
        sizes (e.g. multi-crop's small crops), as in DINO."""
        pos = self.pos_embed[:, 1:]
        if (gh, gw) == (self.grid, self.grid):
            return pos
        g = pos.reshape(1, self.grid, self.grid, -1).permute(0, 3, 1, 2)
        g = F.interpolate(g, size=(gh, gw), mode="bicubic", align_corners=False)
        return g.permute(0, 2, 3, 1).reshape(1, gh * gw, -1)

    def embed_patches(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) -> (N, L, D) patch tokens with positions, L = (H/p)(W/p)."""
        gh, gw = self._grid_of(x)
        return self.patch_embed(x).flatten(2).transpose(1, 2) + self._patch_pos(gh, gw)

    def _with_cls(self, tokens: torch.Tensor) -> torch.Tensor:
        cls = (self.cls_token + self.pos_embed[:, :1]).expand(tokens.shape[0], -1, -1)
        return torch.cat([cls, tokens], dim=1)

    # --- backbone contract ---------------------------------------------------------------
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W) -> (N, num_features): after the final norm, the cls token
        (``pool="cls"``) or the mean of the patch tokens (``pool="avg"``)."""
        t = self._with_cls(self.embed_patches(x))
        for block in self.blocks:
            t = block(t)
        t = self.norm(t)
        return t[:, 1:].mean(dim=1) if self.pool == "avg" else t[:, 0]

    @property
    def stage_names(self) -> list[str]:
        """``stage1`` to ``stage4``: the tokens after each quarter of the blocks."""
        return [f"stage{i}" for i in range(1, 5)]

    def stage_ends(self) -> list[int]:
        """Block counts after which ``stages`` reads the tokens: each quarter of the depth."""
        return [math.ceil(self.depth * k / 4) for k in range(1, 5)]

    def stages(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (N, 3, H, W) -> 4 maps (N, D, H/p, W/p): patch tokens after each quarter of the
        blocks, through the final norm, cls token dropped."""
        gh, gw = self._grid_of(x)
        t = self._with_cls(self.embed_patches(x))
        ends, out = self.stage_ends(), []
        for i, block in enumerate(self.blocks, start=1):
            t = block(t)
            out += [self._as_map(t, gh, gw)] * ends.count(i)
        return out

    def _as_map(self, t: torch.Tensor, gh: int, gw: int) -> torch.Tensor:
        return self.norm(t)[:, 1:].transpose(1, 2).reshape(t.shape[0], -1, gh, gw)

    # --- masked image modelling ------------------------------------------------------------
    def patchify(self, x: torch.Tensor) -> torch.Tensor:
        """x: (N, C, H, W) -> (N, L, p*p*C), patches in row-major order, pixels (p, p, C)."""
        n, c, _, _ = x.shape
        gh, gw = self._grid_of(x)
        p = self.patch_size
        x = x.reshape(n, c, gh, p, gw, p).permute(0, 2, 4, 3, 5, 1)
        return x.reshape(n, gh * gw, p * p * c)

    def unpatchify(self, patches: torch.Tensor, channels: int = 3) -> torch.Tensor:
        """(N, L, p*p*C) -> (N, C, H, W), the inverse of ``patchify`` for square grids."""
        n, length, _ = patches.shape
        g, p = int(round(math.sqrt(length))), self.patch_size
        x = patches.reshape(n, g, g, p, p, channels).permute(0, 5, 1, 3, 2, 4)
        return x.reshape(n, channels, g * p, g * p)

    def forward_visible(self, x: torch.Tensor, keep_idx: torch.Tensor) -> torch.Tensor:
        """x: (N, 3, H, W); keep_idx: (N, K) indices of the visible patches ->
        (N, 1 + K, D): cls token then the K visible tokens, after the final norm. Masked
        patches never enter the encoder (He et al., 2022)."""
        t = self.embed_patches(x)
        t = torch.gather(t, 1, keep_idx.unsqueeze(-1).expand(-1, -1, t.shape[-1]))
        t = self._with_cls(t)
        for block in self.blocks:
            t = block(t)
        return self.norm(t)


@register_backbone
class ViTTiny(_ViT):
    id = "vit_tiny"
    title = "ViT-Tiny"
    summary = ("Vision Transformer with 192-dim tokens, 12 blocks and 3 heads (DeiT-Ti, 5.5 M parameters): "
               "images cut into patches, a cls token and learned positions. Patch 4 suits 32 px images; "
               "the backbone MAE needs.")
    citation = "Dosovitskiy et al., 2021 (ICLR); Touvron et al., 2021 (DeiT sizes)"
    embed_dim, heads = 192, 3


@register_backbone
class ViTSmall(_ViT):
    id = "vit_small"
    title = "ViT-Small"
    summary = ("Vision Transformer with 384-dim tokens, 12 blocks and 6 heads (DeiT-S, 22 M parameters), "
               "the backbone of DINO's main results. Patch 4 suits 32 px images.")
    citation = "Dosovitskiy et al., 2021 (ICLR); Touvron et al., 2021 (DeiT sizes)"
    embed_dim, heads = 384, 6
