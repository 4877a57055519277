"""``pixels``: down-sampled raw frames, mean-centred and L2-normalised.

The floor every learned encoder must beat: nearest neighbours in this space
only find videos that *look* alike frame by frame (same colours in the same
places), so it knows nothing about motion.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import WeightsError
from ..base import Encoder, InputSpec
from ..preprocess import denormalize_to_unit
from ._clips import check_clips

if TYPE_CHECKING:
    import torch

    from ..registry import EncoderEntry


class PixelEncoder(Encoder):
    """Flatten the (T, C, S, S) intensities in [0, 1] (optionally grey), subtract
    the clip's mean and divide by the L2 norm. ``feature_dim = T * C' * S * S``."""

    version = "1"

    def __init__(self, spec: InputSpec, grey: bool = False) -> None:
        super().__init__()
        self.spec = spec
        self.grey = bool(grey)
        channels = 1 if self.grey else 3
        self.feature_dim = spec.num_frames * channels * spec.size * spec.size

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "grey": self.grey}

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        import torch

        check_clips(self.name, clips, self.spec)
        with torch.inference_mode():
            x = denormalize_to_unit(clips.float(), self.spec)  # (B, T, C, H, W) in [0, 1]
            if self.grey:
                w = torch.tensor((0.299, 0.587, 0.114), dtype=x.dtype, device=x.device).view(1, 1, 3, 1, 1)
                x = (x * w).sum(dim=2, keepdim=True)
            x = x.reshape(x.shape[0], -1)
            x = x - x.mean(dim=1, keepdim=True)
            # A constant clip has norm ~0 (float rounding of the mean): make it the zero
            # vector instead of blowing rounding noise up to unit length. Any real
            # variation (one grey level is 1/255) gives a norm far above the threshold.
            norm = x.norm(dim=1, keepdim=True)
            x = torch.where(norm > 1e-4, x / norm.clamp_min(1e-4), torch.zeros_like(x))
        return x.float().clone()


def create(entry: EncoderEntry, weights: Any = None, grey: bool = False, **overrides: Any) -> PixelEncoder:
    """Registry factory for ``pixels`` presets; ``overrides`` may replace spec fields
    (``num_frames``, ``size``)."""
    if weights is not None:
        raise WeightsError(f"encoder {entry.name!r} is training-free and takes no weights; got {weights!s}")
    spec = _spec_with(entry.spec, overrides)
    return PixelEncoder(spec, grey=grey)


def _spec_with(spec: InputSpec, overrides: dict[str, Any]) -> InputSpec:
    from dataclasses import replace

    from ...errors import ConfigError

    allowed = ("num_frames", "size")
    unknown = sorted(set(overrides) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for this encoder; allowed: {', '.join(allowed)}")
    return replace(spec, **overrides) if overrides else spec
