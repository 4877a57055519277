"""Training and evaluation clips: TSN train-mode sampling, random-resized crop, optional flip.

Every random choice is a pure function of (seed, epoch, video id): frame
offsets come from ``SamplerConfig(mode="train")`` salted with (video id, epoch),
the crop box and flip from a generator seeded the same way. So decode workers
need no shared state, and a resumed run draws exactly what an uninterrupted
one would.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from ..data.sampling import SamplerConfig
from ..encoders.base import InputSpec
from ..errors import DecodeError, GesturebenchError


def rng_for(seed: int, *salt: object) -> np.random.Generator:
    digest = hashlib.sha256(repr((int(seed),) + salt).encode("utf-8")).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def resized_crop_box(
    h: int, w: int, scale: tuple[float, float], ratio: tuple[float, float], rng: np.random.Generator
) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a random crop covering ``scale`` of the area at aspect ``ratio``.

    The Inception-style rule: up to 10 draws of area fraction (uniform) and
    aspect (log-uniform); if none fits, the largest centred crop whose aspect
    lies in ``ratio``.
    """
    area = h * w
    log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
    for _ in range(10):
        target = area * rng.uniform(scale[0], scale[1])
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        cw = int(round(math.sqrt(target * aspect)))
        ch = int(round(math.sqrt(target / aspect)))
        if 0 < cw <= w and 0 < ch <= h:
            top = int(rng.integers(0, h - ch + 1))
            left = int(rng.integers(0, w - cw + 1))
            return top, left, ch, cw
    in_ratio = w / h
    if in_ratio < ratio[0]:
        cw, ch = w, int(round(w / ratio[0]))
    elif in_ratio > ratio[1]:
        ch, cw = h, int(round(h * ratio[1]))
    else:
        cw, ch = w, h
    return (h - ch) // 2, (w - cw) // 2, ch, cw


def augment(
    frames: np.ndarray, size: int, scale: tuple[float, float], ratio: tuple[float, float], flip: bool,
    rng: np.random.Generator,
) -> np.ndarray:
    """uint8 (T, H, W, 3) -> uint8 (T, size, size, 3): one crop box and one flip decision for all frames."""
    import cv2

    t, h, w, _ = frames.shape
    top, left, ch, cw = resized_crop_box(h, w, scale, ratio, rng)
    mirror = bool(flip and rng.random() < 0.5)
    out = np.empty((t, size, size, 3), np.uint8)
    for i in range(t):
        crop = frames[i, top : top + ch, left : left + cw]
        out[i] = cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR)
    return out[:, :, ::-1] if mirror else out


class TrainClipLoader:
    """Picklable ``(row, path) -> (row, clip | None, reason | None)`` for one epoch of training."""

    def __init__(self, spec: InputSpec, seed: int, epoch: int, ids: list[str], scale, ratio, flip: bool,
                 decode_fn=None) -> None:
        self.spec, self.seed, self.epoch, self.ids = spec, seed, epoch, ids
        self.scale, self.ratio, self.flip = scale, ratio, flip
        self.decode_fn = decode_fn
        self.sampler = SamplerConfig(name="tsn", num_frames=spec.num_frames, mode="train", seed=seed)

    def __call__(self, row: int, path: str):
        from ..data.decode import decode_clip

        vid = self.ids[row]
        try:
            if self.decode_fn is None:
                frames = decode_clip(path, self.sampler, salt=(vid, self.epoch))
            else:
                frames = self.decode_fn(path, self.sampler, salt=(vid, self.epoch))
            frames = np.asarray(frames)
            if frames.ndim != 4 or frames.shape[0] != self.spec.num_frames or frames.shape[-1] != 3:
                return row, None, f"decoder returned frames of shape {tuple(frames.shape)}"
            rng = rng_for(self.seed, "augment", vid, self.epoch)
            return row, np.ascontiguousarray(
                augment(frames, self.spec.size, self.scale, self.ratio, self.flip, rng)
            ), None
        except DecodeError as exc:
            return row, None, exc.reason
        except GesturebenchError as exc:
            return row, None, str(exc)


def eval_loader(spec: InputSpec):
    """Test-mode clips (TSN segment centres, resize + centre crop), as feature extraction takes them."""
    from ..data.decode import decode_clip
    from ..features.loader import ClipLoader

    return ClipLoader(decode_clip, SamplerConfig(name="tsn", num_frames=spec.num_frames), spec, spec.num_frames)
