"""``gesturebench pose check``: what the pose detector makes of each video.

For each file: decode the ``pose`` encoder's TSN frames, detect, and return the
clip report (detection rate, view verdict, shoulder-width ratio, left/right
swaps, masked joints) that the feature would be computed from. A video that
cannot be decoded is listed with its reason; the others still run.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PoseCheck:
    """One video's result: ``report`` (a :class:`PoseClipReport`) or ``error``."""

    path: Path
    report: Any = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": str(self.path)}
        if self.error is not None:
            d["error"] = self.error
        else:
            d.update(self.report.to_dict(), warning=self.report.warning())
        return d


def check_pose_videos(
    paths: Sequence[str | os.PathLike[str]], encoder: str = "pose",
    progress: Callable[[int, int], None] | None = None,
) -> list[PoseCheck]:
    """The pose clip report of every video in ``paths``, in order (see the module docstring)."""
    from ..data.decode import decode_clip
    from ..data.sampling import SamplerConfig
    from ..encoders.pose.encoder import detect_track, import_mediapipe, parse_options
    from ..encoders.pose.features import pose_feature
    from ..encoders.preprocess import resize_crop
    from ..encoders.registry import get_entry
    from ..errors import ConfigError, GesturebenchError

    entry = get_entry(encoder)
    if entry.family != "pose":
        raise ConfigError(f"pose check needs a pose encoder; {encoder!r} is a {entry.family} encoder")
    if not paths:
        raise ConfigError("pose check needs at least one video file")
    import_mediapipe()
    spec, options = parse_options(entry, {})
    sampler = SamplerConfig(name="tsn", num_frames=spec.num_frames, mode="test")
    out = []
    for i, path in enumerate(paths):
        try:
            frames = resize_crop(decode_clip(path, sampler), spec)
        except GesturebenchError as exc:
            out.append(PoseCheck(Path(path), error=str(exc)))
        else:
            out.append(PoseCheck(Path(path), report=pose_feature(detect_track(frames), options)[1]))
        if progress:
            progress(i + 1, len(paths))
    return out


__all__ = ["PoseCheck", "check_pose_videos"]
