"""Preprocessing derived from an :class:`InputSpec`.

``resize_crop`` runs in decode workers on uint8 numpy frames (cheap to send
between processes); ``normalize`` runs on the encoder's device on a uint8
batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from ..errors import EncoderError
from .base import InputSpec
from .recipes import Recipe, get_recipe

if TYPE_CHECKING:
    import torch


def target_size(h: int, w: int, spec: InputSpec) -> tuple[int, int]:
    """(height, width) the frame is resized to before the centre crop, per ``spec.preprocess``."""
    recipe = get_recipe(spec.preprocess)
    if recipe.resize == "square":
        return spec.size, spec.size
    short = spec.resize_short_side
    if recipe.long_side == "trunc":
        # the official get_resize_sizes: the short side becomes `short` exactly, the long one int(short * long / s)
        if w < h:
            return max(spec.size, int(short * h / w)), short
        return short, max(spec.size, int(short * w / h))
    scale = short / min(h, w)
    return max(spec.size, int(round(h * scale))), max(spec.size, int(round(w * scale)))


def crop_offset(n: int, size: int, how: str) -> int:
    """Start of a centred ``size`` window in ``n`` pixels: ``floor`` or Python ``round`` (halves to even)."""
    return int(round((n - size) / 2)) if how == "round" else (n - size) // 2


def _resizer(recipe: Recipe, shrinking: bool) -> Callable[[np.ndarray, int, int], np.ndarray]:
    """``fn(frame, new_h, new_w) -> frame`` for the recipe's interpolation."""
    import cv2

    if recipe.interpolation in ("area_linear", "cv2_linear"):
        flag = cv2.INTER_AREA if (recipe.interpolation == "area_linear" and shrinking) else cv2.INTER_LINEAR
        return lambda img, nh, nw: cv2.resize(img, (nw, nh), interpolation=flag)
    if recipe.interpolation == "torch_bicubic":
        # OpenCV's float INTER_CUBIC uses the same kernel (a = -0.75), the same half-pixel
        # centres and the same clamped borders as torch's bicubic without anti-aliasing;
        # torchvision then clamps and rounds half to even (np.rint) back to uint8.
        def bicubic(img: np.ndarray, nh: int, nw: int) -> np.ndarray:
            out = cv2.resize(img.astype(np.float32), (nw, nh), interpolation=cv2.INTER_CUBIC)
            return np.rint(np.clip(out, 0.0, 255.0)).astype(np.uint8)

        return bicubic
    from PIL import Image

    resample = Image.Resampling.BILINEAR if recipe.interpolation == "pil_bilinear" else Image.Resampling.BICUBIC
    return lambda img, nh, nw: np.asarray(Image.fromarray(img).resize((nw, nh), resample))


def resize_crop(frames: np.ndarray, spec: InputSpec) -> np.ndarray:
    """uint8 (T, H, W, 3) -> uint8 (T, size, size, 3) by the spec's preprocessing recipe.

    ``short_side`` recipes resize the short side and take the centre crop;
    ``square`` recipes resize both sides to ``size``. See :mod:`gesturebench.encoders.recipes`.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise EncoderError(f"frames must be uint8 (T, H, W, 3); got {frames.dtype} {tuple(frames.shape)}")
    recipe = get_recipe(spec.preprocess)
    t, h, w, _ = frames.shape
    nh, nw = target_size(h, w, spec)
    # A frame already at the target size is left as it is (the official resize_clip does the same).
    fn = _resizer(recipe, shrinking=min(nh, nw) < min(h, w)) if (nh, nw) != (h, w) else None
    top, left = crop_offset(nh, spec.size, recipe.crop_offset), crop_offset(nw, spec.size, recipe.crop_offset)
    out = np.empty((t, spec.size, spec.size, 3), dtype=np.uint8)
    for i in range(t):
        img = fn(np.ascontiguousarray(frames[i]), nh, nw) if fn is not None else frames[i]
        out[i] = img[top : top + spec.size, left : left + spec.size]
    return out


def normalize(batch: torch.Tensor, spec: InputSpec, dtype: torch.dtype | None = None) -> torch.Tensor:
    """uint8 (B, T, S, S, 3) -> float (B, C, T, S, S) or (B, T, C, S, S) per ``spec.layout``."""
    import torch

    if batch.ndim != 5 or batch.shape[-1] != 3:
        raise EncoderError(f"batch must be (B, T, H, W, 3); got {tuple(batch.shape)}")
    dtype = dtype or torch.float32
    x = batch.to(dtype).div_(255.0)
    mean = torch.tensor(spec.mean, dtype=dtype, device=x.device)
    std = torch.tensor(spec.std, dtype=dtype, device=x.device)
    x = x.sub_(mean).div_(std)
    if spec.layout == "CTHW":
        return x.permute(0, 4, 1, 2, 3).contiguous()
    return x.permute(0, 1, 4, 2, 3).contiguous()


def denormalize_to_unit(clips: torch.Tensor, spec: InputSpec) -> torch.Tensor:
    """Inverse of :func:`normalize` to [0, 1] floats, laid out (B, T, C, H, W).

    For hand-crafted encoders (``pixels``, ``motion``) that work on raw intensities.
    """
    import torch

    x = clips if spec.layout == "TCHW" else clips.permute(0, 2, 1, 3, 4)
    mean = torch.tensor(spec.mean, dtype=x.dtype, device=x.device).view(1, 1, 3, 1, 1)
    std = torch.tensor(spec.std, dtype=x.dtype, device=x.device).view(1, 1, 3, 1, 1)
    return (x * std + mean).clamp_(0.0, 1.0)
