"""Shared input checks and conversions for the basic (hand-crafted and tiny) encoders."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...errors import EncoderError
from ..base import InputSpec

if TYPE_CHECKING:
    import torch


def check_clips(name: str, clips: torch.Tensor, spec: InputSpec) -> None:
    """Raise :class:`EncoderError` unless ``clips`` is (B, ...) laid out as ``spec`` says."""
    t, s = spec.num_frames, spec.size
    expected = (3, t, s, s) if spec.layout == "CTHW" else (t, 3, s, s)
    if clips.ndim != 5 or tuple(clips.shape[1:]) != expected:
        shown = "(B, " + ", ".join(str(d) for d in expected) + ")"
        raise EncoderError(
            f"encoder {name!r} expects clips {shown} ({spec.layout}); got {tuple(clips.shape)}"
        )
    if not clips.is_floating_point():
        raise EncoderError(f"encoder {name!r} expects float clips (see preprocess.normalize); got {clips.dtype}")
