"""Preprocessing derived from an :class:`InputSpec`.

``resize_crop`` runs in decode workers on uint8 numpy frames (cheap to send
between processes); ``normalize`` runs on the encoder's device on a uint8
batch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..errors import EncoderError
from .base import InputSpec

if TYPE_CHECKING:
    import torch


def resize_crop(frames: np.ndarray, spec: InputSpec) -> np.ndarray:
    """uint8 (T, H, W, 3) -> uint8 (T, size, size, 3): resize short side, centre crop.

    Uses OpenCV INTER_AREA when shrinking (anti-aliased) and INTER_LINEAR when
    enlarging.
    """
    import cv2

    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise EncoderError(f"frames must be uint8 (T, H, W, 3); got {frames.dtype} {tuple(frames.shape)}")
    t, h, w, _ = frames.shape
    short = spec.resize_short_side
    scale = short / min(h, w)
    nh, nw = max(spec.size, int(round(h * scale))), max(spec.size, int(round(w * scale)))
    out = np.empty((t, spec.size, spec.size, 3), dtype=np.uint8)
    interp = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
    top, left = (nh - spec.size) // 2, (nw - spec.size) // 2
    for i in range(t):
        img = frames[i] if (nh, nw) == (h, w) else cv2.resize(frames[i], (nw, nh), interpolation=interp)
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
