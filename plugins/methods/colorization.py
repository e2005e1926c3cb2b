"""Colorful image colorization (Zhang, Isola & Efros, 2016): predict a distribution over
quantised ab colours for every pixel from the lightness channel alone."""
from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import nn

from engine.api import (
    MethodPlugin,
    Param,
    lab_to_rgb,
    register_method,
    resized_crop,
    rgb_to_lab,
    stage_shapes,
    to_float,
)

AB_LIMIT = 110.0   # ab range of the paper's grid
PAPER_BINS = 313
# The paper's Q = 313 bins (the authors' released pts_in_hull): 10-unit ab cells, given here
# per a as the run of b centres it keeps, (a, lowest b, highest b). Their hull is wider than
# the cells sRGB colours fall in (about 261 of them), so it is kept as published.
_PAPER_HULL = ((-90, 50, 90), (-80, 20, 90), (-70, 0, 90), (-60, -20, 90), (-50, -30, 100),
               (-40, -40, 100), (-30, -50, 100), (-20, -50, 100), (-10, -60, 100), (0, -70, 100),
               (10, -80, 90), (20, -80, 90), (30, -90, 90), (40, -100, 90), (50, -100, 80),
               (60, -110, 80), (70, -110, 80), (80, -110, 70), (90, -110, 70), (100, -90, 0))


def paper_bins() -> torch.Tensor:
    """The paper's 313 ab bin centres, (313, 2) as (a, b)."""
    return torch.tensor([(a, b) for a, lo, hi in _PAPER_HULL for b in range(lo, hi + 1, 10)], dtype=torch.float32)


def _in_gamut_centres(step: float) -> torch.Tensor:
    """Centres (K, 2) of the ab grid cells (centres at multiples of ``step`` within +-110)
    that hold at least one sRGB colour: some point of the cell (a 5x5 sub-grid of it) is in
    gamut at some lightness L in [0, 100]."""
    half = int(AB_LIMIT // step)
    axis = torch.arange(-half, half + 1, dtype=torch.float32) * step
    a, b = torch.meshgrid(axis, axis, indexing="ij")
    centres = torch.stack([a.flatten(), b.flatten()], 1)                 # (G, 2)
    sub = torch.linspace(-0.45, 0.45, 5) * step
    da, db = torch.meshgrid(sub, sub, indexing="ij")
    points = centres[:, None] + torch.stack([da.flatten(), db.flatten()], 1)[None]   # (G, S, 2)
    levels = torch.linspace(1, 99, 34)
    g, s = points.shape[:2]
    lab = torch.cat([levels.view(-1, 1, 1, 1).expand(-1, g, s, 1),
                     points[None].expand(len(levels), -1, -1, -1)], 3)       # (L, G, S, 3)
    rgb = lab_to_rgb(lab.permute(3, 0, 1, 2).reshape(1, 3, len(levels), g * s), clip=False)[0]
    ok = ((rgb >= 0) & (rgb <= 1)).all(0).view(len(levels), g, s).any(2).any(0)
    return centres[ok]


@functools.lru_cache(maxsize=8)
def ab_bins(q: int) -> tuple[torch.Tensor, float]:
    """(centres (Q', 2) of in-gamut ab bins with Q' close to ``q``, grid step in ab units).

    ``q`` = 313 gives the paper's bins (``paper_bins``). Otherwise the ab grid is tested
    analytically: cells that hold sRGB colours at some lightness (about 255 at the paper's
    10-unit step). If ``q`` is smaller than that count, the grid step is widened until the
    in-gamut count is the one nearest to ``q``; if larger, the 10-unit grid is used as is."""
    if q == PAPER_BINS:
        return paper_bins(), 10.0
    best, best_step = _in_gamut_centres(10.0), 10.0
    if q >= len(best):
        return best, best_step
    low, high = 10.0, AB_LIMIT     # the count falls (almost monotonically) as the step grows
    for _ in range(12):
        step = (low + high) / 2
        cand = _in_gamut_centres(step)
        if abs(len(cand) - q) < abs(len(best) - q):
            best, best_step = cand, step
        if len(cand) > q:
            low = step
        else:
            high = step
    return best, best_step


def soft_encode(ab: torch.Tensor, bins: torch.Tensor, neighbours: int, sigma: float):
    """ab: (N, 2, h, w) -> (soft targets (N, Q, h, w), hard bin (N, h, w)): a Gaussian
    kernel (std ``sigma`` ab units) over the ``neighbours`` nearest bins (5 and 5 in the paper)."""
    n, _, h, w = ab.shape
    flat = ab.permute(0, 2, 3, 1).reshape(-1, 2)
    d2 = torch.cdist(flat, bins.to(ab.device)) ** 2                     # (M, Q)
    near_d2, near = d2.topk(min(neighbours, bins.shape[0]), dim=1, largest=False)
    weights = torch.softmax(-near_d2 / (2 * sigma ** 2), dim=1)
    soft = torch.zeros_like(d2).scatter_(1, near, weights)
    soft = soft.reshape(n, h, w, -1).permute(0, 3, 1, 2)
    return soft, near[:, 0].reshape(n, h, w)


def smooth_prior(prior: torch.Tensor, bins: torch.Tensor, sigma: float) -> torch.Tensor:
    """prior: (Q,) colour distribution over the bins, bins: (Q, 2) their ab centres -> (Q,)
    the prior smoothed over the ab plane by a Gaussian of std ``sigma`` ab units, renormalised
    (Zhang et al., 2016, Sec. 2.2: p-tilde, sigma = 5). ``sigma <= 0``: the prior itself."""
    if sigma <= 0:
        return prior
    d2 = torch.cdist(bins.float(), bins.float()) ** 2
    smoothed = torch.exp(-d2 / (2 * sigma ** 2)) @ prior.float()
    return smoothed / smoothed.sum()


def rebalance_weights(prior: torch.Tensor, lam: float) -> torch.Tensor:
    """prior: (Q,) colour distribution -> (Q,) class weights w ~ ((1 - lam) p + lam / Q)^-1,
    scaled so that E_p[w] = 1 (Zhang et al., 2016, eq. 4; lam = 0.5 there)."""
    q = prior.shape[0]
    w = 1.0 / ((1 - lam) * prior + lam / q)
    return w / (prior * w).sum()


def colorization_loss(logits: torch.Tensor, soft: torch.Tensor, hard: torch.Tensor,
                      class_weights: torch.Tensor | None = None):
    """Multinomial cross-entropy with optional class rebalancing (Zhang et al., 2016, eq. 2).

    logits, soft: (N, Q, h, w); hard: (N, h, w) nearest bin; class_weights: (Q,) or None.
    Returns (loss, {"colorization_acc"}): the fraction of pixels whose top bin is the nearest
    bin of the true colour."""
    ce = -(soft * F.log_softmax(logits.float(), dim=1)).sum(1)           # (N, h, w)
    if class_weights is not None:
        ce = ce * class_weights[hard]
    acc = (logits.argmax(1) == hard).float().mean().item()
    return ce.mean(), {"colorization_acc": acc}


@register_method
class Colorization(MethodPlugin):
    id = "colorization"
    title = "Colorization"
    summary = ("The network sees only the lightness L of each image (Lab colour space) and predicts, "
               "for every pixel at reduced resolution, a distribution over Q quantised in-gamut ab "
               "colours, trained with a soft-encoded cross-entropy that can be re-weighted towards "
               "rare colours. To colour a shape it must first recognise it.")
    citation = "Zhang, Isola & Efros, 2016 (ECCV)"
    accuracy_key = "colorization_acc"
    params = [
        Param("bins", "int", PAPER_BINS, "number Q of ab bins: 313 is the paper's set; fewer, on a wider "
              "grid, suit small images", 8, 400),
        Param("out_stride", "int", 4, "predictions are made at 1/stride of the image side (4 in the paper)", 1, 16),
        Param("decoder_width", "int", 64, "channels of the light decoder over the backbone stages", 8, 1024),
        Param("soft_neighbors", "int", 5, "bins sharing each pixel's soft target", 1, 32),
        Param("soft_sigma", "float", 0.5, "std of the soft-encoding kernel in bin spacings (5/10 in the paper)", 0.05, 5.0),
        Param("rebalance", "bool", True, "weight pixels by the inverse smoothed frequency of their colour"),
        Param("rebalance_lambda", "float", 0.5, "mix of the uniform distribution into the prior (0.5 in the paper)", 0.0, 1.0),
        Param("prior_sigma", "float", 5.0, "std (ab units) of the Gaussian that smooths the colour prior (5 in the paper; 0: off)", 0.0, 50.0),
        Param("prior_momentum", "float", 0.99, "EMA momentum of the colour prior estimated from batches", 0.0, 0.9999),
        Param("anneal_t", "float", 0.38, "temperature of the annealed mean used to colour images", 0.01, 1.0),
        Param("crop_min", "float", 0.6, "smallest random crop (area fraction) of the training images", 0.05, 1.0),
    ]

    def __init__(self, backbone, image_size=32, num_classes=None, **p):
        super().__init__(backbone, image_size, num_classes, **p)
        bins, self.spacing = ab_bins(p["bins"])
        self.register_buffer("bins", bins, persistent=False)
        self.register_buffer("prior", torch.full((len(bins),), 1.0 / len(bins)))
        self.register_buffer("prior_ready", torch.zeros((), dtype=torch.bool))
        self.out_size = max(1, image_size // p["out_stride"])
        d = p["decoder_width"]
        shapes = stage_shapes(backbone, image_size)[1:]  # the stem is too shallow to help
        self.lateral = nn.ModuleList([nn.Conv2d(c, d, 1) for c, _, _ in shapes])
        self.decoder = nn.Sequential(nn.BatchNorm2d(d), nn.ReLU(inplace=True), nn.Conv2d(d, d, 3, padding=1),
                                     nn.BatchNorm2d(d), nn.ReLU(inplace=True), nn.Conv2d(d, len(bins), 1))

    @staticmethod
    def lightness_input(lab):
        """Lab (N, 3, H, W) -> the backbone input: L scaled to [-1, 1], replicated to 3 channels."""
        return (lab[:, :1] / 50.0 - 1.0).expand(-1, 3, -1, -1)

    def logits(self, lab):
        """Lab (N, 3, H, W) -> ab-bin logits (N, Q, h, w) at the reduced resolution."""
        maps = self.backbone.stages(self.lightness_input(lab))[1:]
        size = (self.out_size, self.out_size)
        fused = sum(F.interpolate(lat(m), size=size, mode="bilinear", align_corners=False)
                    for lat, m in zip(self.lateral, maps))
        return self.decoder(fused)

    def _update_prior(self, hard):
        freq = torch.bincount(hard.flatten(), minlength=len(self.bins)).float()
        freq = freq / freq.sum()
        if not bool(self.prior_ready):
            self.prior.copy_(freq)
            self.prior_ready.fill_(True)
        else:
            self.prior.mul_(self.hparams["prior_momentum"]).add_(freq, alpha=1 - self.hparams["prior_momentum"])

    def training_step(self, x, y=None):
        p = self.hparams
        rgb = resized_crop(to_float(x), self.image_size, (p["crop_min"], 1.0), (1.0, 1.0), 0.5, self.gen)
        lab = rgb_to_lab(rgb)
        ab = F.adaptive_avg_pool2d(lab[:, 1:], self.out_size)
        soft, hard = soft_encode(ab, self.bins, p["soft_neighbors"], p["soft_sigma"] * self.spacing)
        weights = None
        if p["rebalance"]:
            with torch.no_grad():
                self._update_prior(hard)
            weights = rebalance_weights(smooth_prior(self.prior, self.bins, p["prior_sigma"]), p["rebalance_lambda"])
        loss, metrics = colorization_loss(self.logits(lab), soft, hard, weights)
        return {"loss": loss, **metrics}

    @torch.no_grad()
    def predict_colors(self, x: torch.Tensor) -> torch.Tensor:
        """x: uint8 (N, 3, H, W) -> RGB float (N, 3, H, W) in [0, 1]: the input's own L with the
        annealed mean (temperature ``anneal_t``) of the predicted ab distribution, upsampled."""
        lab = rgb_to_lab(to_float(x))
        probs = torch.softmax(self.logits(lab).float() / self.hparams["anneal_t"], dim=1)
        ab = torch.einsum("nqhw,qc->nchw", probs, self.bins.to(probs.device))
        ab = F.interpolate(ab, size=lab.shape[-2:], mode="bilinear", align_corners=False)
        return lab_to_rgb(torch.cat([lab[:, :1], ab], 1))

    @torch.no_grad()
    def input_preview(self, x):
        lab = rgb_to_lab(to_float(x))
        return {"original": to_float(x), "L input": (lab[:, :1] / 100).expand(-1, 3, -1, -1),
                "colourised": self.predict_colors(x)}

    @torch.no_grad()
    def embed(self, x):
        """Features of the lightness channel, the only input the backbone was trained on."""
        return self.backbone.forward_features(self.lightness_input(rgb_to_lab(to_float(x))))
