"""sRGB <-> CIE Lab (D65) in torch, batched and differentiable, for colorization
(Zhang, Isola & Efros, 2016). Formulas: IEC 61966-2-1 (sRGB) and CIE 1976 L*a*b*."""
from __future__ import annotations

import torch

# linear sRGB -> XYZ, D65 white (IEC 61966-2-1)
_RGB_TO_XYZ = torch.tensor([[0.412453, 0.357580, 0.180423],
                            [0.212671, 0.715160, 0.072169],
                            [0.019334, 0.119193, 0.950227]])
_WHITE = torch.tensor([0.950456, 1.0, 1.088754])
_EPS = 216 / 24389   # (6/29)^3
_KAPPA = 24389 / 27


def _linear(rgb):
    return torch.where(rgb > 0.04045, ((rgb + 0.055) / 1.055).clamp(min=0) ** 2.4, rgb / 12.92)


def _gamma(lin):
    return torch.where(lin > 0.0031308, 1.055 * lin.clamp(min=0) ** (1 / 2.4) - 0.055, 12.92 * lin)


def _mix(x, matrix):
    """Apply a 3x3 matrix to the channel axis of (N, 3, H, W)."""
    return torch.einsum("ij,njhw->nihw", matrix.to(x.device, x.dtype), x)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """rgb: (N, 3, H, W) in [0, 1] -> Lab (N, 3, H, W): L in [0, 100], a and b roughly in [-110, 110].
    Always float32, also inside autocast: half precision would shift colours visibly."""
    with torch.autocast(rgb.device.type, enabled=False):
        return _rgb_to_lab(rgb.float())


def _rgb_to_lab(rgb):
    xyz = _mix(_linear(rgb), _RGB_TO_XYZ) / _WHITE.to(rgb.device).view(1, 3, 1, 1)
    f = torch.where(xyz > _EPS, xyz.clamp(min=_EPS) ** (1 / 3), (_KAPPA * xyz + 16) / 116)
    fx, fy, fz = f[:, 0], f[:, 1], f[:, 2]
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], 1)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """Lab (N, 3, H, W) -> sRGB (N, 3, H, W); clipped to [0, 1] unless ``clip`` is False
    (unclipped values tell whether a colour is in the sRGB gamut). Float32, as rgb_to_lab."""
    with torch.autocast(lab.device.type, enabled=False):
        rgb = _lab_to_rgb(lab.float())
    return rgb.clamp(0, 1) if clip else rgb


def _lab_to_rgb(lab):
    fy = (lab[:, 0] + 16) / 116
    fx = fy + lab[:, 1] / 500
    fz = fy - lab[:, 2] / 200
    f = torch.stack([fx, fy, fz], 1)
    xyz = torch.where(f ** 3 > _EPS, f ** 3, (116 * f - 16) / _KAPPA)
    xyz = xyz * _WHITE.to(lab.device).view(1, 3, 1, 1)
    return _gamma(_mix(xyz, torch.linalg.inv(_RGB_TO_XYZ)))
