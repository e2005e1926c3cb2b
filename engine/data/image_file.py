"""Decoding one image file of any common format into a square RGB array, or ``None``.

Whatever the mode (grayscale, 16-bit, palette, RGBA, CMYK...), the result is (size, size, 3)
uint8 RGB: transparency is composited on white, EXIF rotation applied, the largest centred
square is cropped and resized. Files that cannot be decoded (truncated, empty, not an image,
too many pixels: a decompression bomb) give ``None`` so the caller can skip and count them.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageOps

EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif")
# Pillow's own default guard (about 89 megapixels); used when someone set the global to None
DEFAULT_MAX_PIXELS = 89_478_485


def max_pixels() -> int:
    return Image.MAX_IMAGE_PIXELS or DEFAULT_MAX_PIXELS


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and float grayscale -> "L"; Pillow's own convert would clip them at 255."""
    arr = np.asarray(img, dtype=np.float64)
    top = 65535.0 if img.mode.startswith("I;16") or arr.max(initial=0) > 255 else 255.0
    return Image.fromarray(np.clip(arr * (255.0 / top), 0, 255).round().astype(np.uint8), "L")


def to_rgb(img: Image.Image) -> Image.Image:
    """Any Pillow mode -> "RGB"; transparent pixels become white."""
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        img = _to_8bit(img)
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "La", "RGBa"):
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return img.convert("RGB")


def _upright(img: Image.Image) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a corrupt EXIF block should not cost the picture itself
        return img


def decode_square(path: str, size: int) -> np.ndarray | None:
    """path -> (size, size, 3) uint8 RGB (centre square, resized), or None if unreadable.

    Pillow raises DecompressionBombError above twice ``Image.MAX_IMAGE_PIXELS`` and only warns
    between one and two times; anything above once is refused here before decoding."""
    try:
        with Image.open(path) as img:
            width, height = img.size
            if width < 1 or height < 1 or width * height > max_pixels():
                return None
            img.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, still >= size
            img.load()
            img = to_rgb(_upright(img))
            return np.asarray(ImageOps.fit(img, (size, size), Image.BICUBIC), dtype=np.uint8).copy()
    except Exception:  # decoders raise many types on corrupt data (OSError, SyntaxError, struct.error...)
        return None
