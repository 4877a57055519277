"""The clip feature of the ``pose`` encoder, computed from a :class:`~.track.PoseTrack`.

Pure numpy and deterministic; the same function serves detected pose (the
``pose`` encoder) and projected ground-truth joints (``synth --joints-only``).

1. **Visibility mask.** A joint counts as seen in a frame when its visibility
   is at least ``VIS_MIN``. A joint seen in fewer than ``MIN_SEEN`` of the
   frames is *masked*: every entry of the feature that describes it is 0, and
   the clip report names it.
2. **Body frame.** Origin: the shoulder centre of each frame (interpolated over
   frames where a shoulder is not seen). Scale: the clip's median torso length
   (shoulder centre to hip centre) over frames where both shoulders and both
   hips are seen; the torso is more stable than shoulder width when the body
   turns. Clips where the hips are never seen (a webcam showing the upper body)
   fall back to ``shoulder width / SHOULDER_PER_TORSO``, and say so. The y axis
   is flipped so that up is positive. Positions are in torso lengths.
3. **Gap filling and smoothing.** Unseen frames of a kept joint are filled by
   linear interpolation in time (the nearest seen value at the ends), then the
   path is smoothed with the 3-tap filter ``SMOOTH`` (detector jitter would
   otherwise inflate arc length and fill the direction histogram with noise).
4. **Blocks** (``o`` = the options):

   - ``trajectory``: both elbows and both wrists at ``o.n_time`` evenly spaced
     times (linear interpolation), (4, n_time, 2);
   - ``arc``: each wrist's path resampled at ``o.n_arc`` points evenly spaced
     along its arc length: the *shape* of the path, whatever the speed, the
     pauses or the sampling rate; a wrist that moves less than ``ARC_EPS``
     repeats its mean position; (2, n_arc, 2);
   - ``occupancy``: for each wrist, a ``o.grid`` x ``o.grid`` histogram of where
     it was (bilinear votes) over the square ``[-OCC_EXTENT, OCC_EXTENT]^2``
     around the shoulder centre (positions beyond it count on the border),
     normalised to sum 1; (2, grid, grid);
   - ``direction``: for each wrist, the directions of its frame-to-frame
     motion in ``o.dir_bins`` signed bins (bin k centred at ``(k + 0.5) * 360 /
     dir_bins`` degrees, counter-clockwise from +x with up positive), each step
     voting with its length split linearly between the two nearest bins,
     normalised to sum 1 (all zero when the wrist moves less than ``ARC_EPS``);
     (2, dir_bins).

5. **Weighting.** Coordinate blocks are divided by the square root of their
   number of points (their norm is the RMS distance from the shoulder centre,
   about 1); histograms are square-rooted (Hellinger) and divided by sqrt(2)
   (unit norm for two wrists). Each block is then multiplied by its entry in
   ``BLOCK_WEIGHTS``. There is no final normalisation: L2 distances stay in
   torso units.

``feature_dim = 8 n_time + 4 n_arc + 2 grid^2 + 2 dir_bins`` (336 by default).

**View check.** On frames with both shoulders and hips seen, ``s = (x of
l_shoulder - x of r_shoulder) / torso length`` in image x. Facing the camera,
the subject's left shoulder is on the image's right, so ``s`` is about +0.7;
seen from the side ``|s|`` is near 0; from behind (when the detector names the
sides right) ``s`` is negative. The report's ``view`` is ``none`` when fewer
than ``MIN_DETECTED`` of the frames show the body, ``side`` when the median
``|s|`` is below ``SIDE_RATIO``, ``back`` when more than half the frames have
``s < 0``, else ``front``. Detectors often name the sides of a person seen
from behind as if they faced the camera, so ``front`` does not prove a frontal
view; ``side`` and ``back`` are reliable warnings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ...errors import ConfigError
from .track import POSE_JOINTS, PoseTrack

VIS_MIN = 0.5
MIN_SEEN = 0.25
MIN_DETECTED = 0.5
SMOOTH = (0.25, 0.5, 0.25)
ARC_EPS = 0.02
OCC_EXTENT = 1.75
SHOULDER_PER_TORSO = 0.75
SIDE_RATIO = 0.35
#: trajectory, arc, occupancy, direction
BLOCK_WEIGHTS = (1.0, 1.0, 1.0, 1.0)

#: The joints described by the trajectory block, and the wrists of the other blocks.
LIMBS = ("l_elbow", "r_elbow", "l_wrist", "r_wrist")
WRISTS = ("l_wrist", "r_wrist")
VIEWS = ("front", "side", "back", "none")


@dataclass(frozen=True)
class PoseOptions:
    """Resolution of each feature block; see the module docstring."""

    n_time: int = 16
    n_arc: int = 16
    grid: int = 8
    dir_bins: int = 8

    def __post_init__(self) -> None:
        for name in ("n_time", "n_arc", "grid", "dir_bins"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 2 or v > 256:
                raise ConfigError(f"pose encoder option {name} must be an integer from 2 to 256; got {v!r}")

    @property
    def feature_dim(self) -> int:
        return 8 * self.n_time + 4 * self.n_arc + 2 * self.grid**2 + 2 * self.dir_bins

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class PoseClipReport:
    """What the view check and the mask found in one clip (a user-facing report field).

    frames: frames in the clip; detected: frames with both shoulders and both hips
    seen; width_ratio: median ``|s|`` (NaN when never measurable); swapped: fraction
    of measured frames with ``s < 0``; scale: ``torso`` or ``shoulders`` (fallback)
    or ``none``; masked: joints left out of the feature.
    """

    frames: int
    detected: int
    view: str
    width_ratio: float
    swapped: float
    scale: str
    masked: tuple[str, ...] = field(default_factory=tuple)

    @property
    def detection_rate(self) -> float:
        return self.detected / self.frames if self.frames else 0.0

    def warning(self) -> str | None:
        """One line when the clip's pose features should not be trusted, else None."""
        if self.view == "none":
            return f"no person found in {self.frames - self.detected} of {self.frames} frames; its pose feature is empty or partial"
        if self.view == "side":
            return (f"seen from the side (shoulder width {self.width_ratio:.2f} torso lengths, frontal is about 0.7); "
                    "arm paths are foreshortened")
        if self.view == "back":
            return f"seen from behind (left and right swapped in {100 * self.swapped:.0f}% of frames)"
        if self.masked:
            return f"joints hidden in most frames, left out of the feature: {', '.join(self.masked)}"
        return None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["masked"] = list(self.masked)
        d["width_ratio"] = None if math.isnan(self.width_ratio) else round(self.width_ratio, 4)
        d["swapped"] = round(self.swapped, 4)
        d["detection_rate"] = round(self.detection_rate, 4)
        return d


def fill_gaps(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """(T, C) values, (T,) bool -> values with unseen rows linearly interpolated in time
    (nearest seen row at the ends). Needs at least one seen row."""
    t = np.arange(len(values), dtype=np.float64)
    if seen.all():
        return values.astype(np.float64)
    out = np.empty(values.shape, dtype=np.float64)
    for c in range(values.shape[1]):
        out[:, c] = np.interp(t, t[seen], values[seen, c])
    return out


def smooth(path: np.ndarray) -> np.ndarray:
    """(T, 2) -> (T, 2) filtered with ``SMOOTH`` along time (edges repeat the end values)."""
    if len(path) < 3:
        return path.copy()
    padded = np.concatenate([path[:1], path, path[-1:]])
    a, b, c = SMOOTH
    return a * padded[:-2] + b * padded[1:-1] + c * padded[2:]


def resample_time(path: np.ndarray, n: int) -> np.ndarray:
    """(T, 2) at times 0..1 (evenly spaced) -> (n, 2) at ``linspace(0, 1, n)``."""
    if len(path) == 1:
        return np.repeat(path, n, axis=0)
    src = np.linspace(0.0, 1.0, len(path))
    dst = np.linspace(0.0, 1.0, n)
    return np.stack([np.interp(dst, src, path[:, 0]), np.interp(dst, src, path[:, 1])], -1)


def resample_arc(path: np.ndarray, n: int) -> np.ndarray:
    """(T, 2) -> (n, 2) points evenly spaced along the path's arc length (start and end
    included); a path shorter than ``ARC_EPS`` gives its mean position n times."""
    steps = np.hypot(*np.diff(path, axis=0).T) if len(path) > 1 else np.zeros(0)
    total = float(steps.sum())
    if total < ARC_EPS:
        return np.repeat(path.mean(axis=0, keepdims=True), n, axis=0)
    dist = np.concatenate([[0.0], np.cumsum(steps)])
    keep = np.concatenate([[True], steps > 0])  # np.interp needs increasing sample points
    dst = np.linspace(0.0, total, n)
    return np.stack([np.interp(dst, dist[keep], path[keep, 0]), np.interp(dst, dist[keep], path[keep, 1])], -1)


def occupancy(path: np.ndarray, grid: int, extent: float = OCC_EXTENT) -> np.ndarray:
    """(T, 2) -> (grid, grid) bilinear histogram over ``[-extent, extent]^2`` (row 0 at the
    top, i.e. largest y), normalised to sum 1."""
    u = (path[:, 0] + extent) / (2 * extent) * grid - 0.5
    v = (extent - path[:, 1]) / (2 * extent) * grid - 0.5
    u, v = np.clip(u, 0.0, grid - 1.0), np.clip(v, 0.0, grid - 1.0)
    u0, v0 = np.minimum(np.floor(u).astype(np.int64), grid - 2), np.minimum(np.floor(v).astype(np.int64), grid - 2)
    fu, fv = u - u0, v - v0
    h = np.zeros((grid, grid), dtype=np.float64)
    np.add.at(h, (v0, u0), (1 - fv) * (1 - fu))
    np.add.at(h, (v0, u0 + 1), (1 - fv) * fu)
    np.add.at(h, (v0 + 1, u0), fv * (1 - fu))
    np.add.at(h, (v0 + 1, u0 + 1), fv * fu)
    return h / h.sum()


def direction_histogram(path: np.ndarray, bins: int) -> np.ndarray:
    """(T, 2) -> (bins,) length-weighted histogram of step directions, normalised to sum 1
    (zeros when the path is shorter than ``ARC_EPS``)."""
    d = np.diff(path, axis=0)
    length = np.hypot(d[:, 0], d[:, 1])
    h = np.zeros(bins, dtype=np.float64)
    if float(length.sum()) < ARC_EPS:
        return h
    ang = np.mod(np.arctan2(d[:, 1], d[:, 0]), 2 * math.pi)
    pos = ang * bins / (2 * math.pi) - 0.5
    lo = np.floor(pos).astype(np.int64)
    frac = pos - lo
    np.add.at(h, lo % bins, length * (1 - frac))
    np.add.at(h, (lo + 1) % bins, length * frac)
    return h / h.sum()


def _view(track: PoseTrack, seen: np.ndarray, scale_kind: str, masked: tuple[str, ...]) -> PoseClipReport:
    j = {n: i for i, n in enumerate(track.joints)}
    xy = track.xy.astype(np.float64)
    core = seen[:, [j["l_shoulder"], j["r_shoulder"], j["l_hip"], j["r_hip"]]].all(1)
    frames = track.num_frames
    ratio, swapped = float("nan"), 0.0
    if core.any():
        sc = 0.5 * (xy[core, j["l_shoulder"]] + xy[core, j["r_shoulder"]])
        hc = 0.5 * (xy[core, j["l_hip"]] + xy[core, j["r_hip"]])
        torso = np.maximum(np.hypot(*(sc - hc).T), 1e-6)
        s = (xy[core, j["l_shoulder"], 0] - xy[core, j["r_shoulder"], 0]) / torso
        ratio, swapped = float(np.median(np.abs(s))), float(np.mean(s < 0))
    else:
        sh = seen[:, [j["l_shoulder"], j["r_shoulder"]]].all(1)
        if sh.any():
            swapped = float(np.mean(xy[sh, j["l_shoulder"], 0] < xy[sh, j["r_shoulder"], 0]))
    detected = int(core.sum()) if scale_kind != "shoulders" else int(seen[:, [j["l_shoulder"], j["r_shoulder"]]].all(1).sum())
    if scale_kind == "none" or detected < MIN_DETECTED * frames:
        view = "none"
    elif not math.isnan(ratio) and ratio < SIDE_RATIO:
        view = "side"
    elif swapped > 0.5:
        view = "back"
    else:
        view = "front"
    return PoseClipReport(frames, detected, view, ratio, swapped, scale_kind, masked)


def pose_feature(track: PoseTrack, options: PoseOptions = PoseOptions()) -> tuple[np.ndarray, PoseClipReport]:
    """float32 (options.feature_dim,) clip feature and its report; see the module docstring.

    A clip where the shoulders are never seen gives an all-zero feature and ``view="none"``.
    """
    o = options
    tr = track.select(POSE_JOINTS)
    j = {n: i for i, n in enumerate(POSE_JOINTS)}
    seen = tr.visibility >= VIS_MIN
    xy = tr.xy.astype(np.float64) * np.array([1.0, -1.0])  # up is +y
    out = np.zeros(o.feature_dim, dtype=np.float64)

    ls, rs, lh, rh = (j[n] for n in ("l_shoulder", "r_shoulder", "l_hip", "r_hip"))
    sh_seen = seen[:, ls] & seen[:, rs]
    core = sh_seen & seen[:, lh] & seen[:, rh]
    if not sh_seen.any():
        return out.astype(np.float32), _view(tr, seen, "none", LIMBS)
    centre = fill_gaps(0.5 * (xy[:, ls] + xy[:, rs]), sh_seen)
    if core.any():
        torso = np.hypot(*(0.5 * (xy[core, ls] + xy[core, rs]) - 0.5 * (xy[core, lh] + xy[core, rh])).T)
        scale, scale_kind = float(np.median(torso)), "torso"
    else:
        width = np.hypot(*(xy[sh_seen, ls] - xy[sh_seen, rs]).T)
        scale, scale_kind = float(np.median(width)) / SHOULDER_PER_TORSO, "shoulders"
    if scale <= 1e-6:
        return out.astype(np.float32), _view(tr, seen, "none", LIMBS)

    frames = tr.num_frames
    paths: dict[str, np.ndarray] = {}
    masked = []
    for name in LIMBS:
        k = j[name]
        if seen[:, k].sum() < max(1.0, MIN_SEEN * frames):
            masked.append(name)
            continue
        paths[name] = smooth((fill_gaps(xy[:, k], seen[:, k]) - centre) / scale)

    w_traj, w_arc, w_occ, w_dir = BLOCK_WEIGHTS
    pos = 0
    for name in LIMBS:  # trajectory
        n = 2 * o.n_time
        if name in paths:
            out[pos:pos + n] = w_traj * resample_time(paths[name], o.n_time).ravel() / math.sqrt(4 * o.n_time)
        pos += n
    for name in WRISTS:  # arc
        n = 2 * o.n_arc
        if name in paths:
            out[pos:pos + n] = w_arc * resample_arc(paths[name], o.n_arc).ravel() / math.sqrt(2 * o.n_arc)
        pos += n
    for name in WRISTS:  # occupancy
        n = o.grid * o.grid
        if name in paths:
            out[pos:pos + n] = w_occ * np.sqrt(occupancy(paths[name], o.grid)).ravel() / math.sqrt(2)
        pos += n
    for name in WRISTS:  # direction
        n = o.dir_bins
        if name in paths:
            out[pos:pos + n] = w_dir * np.sqrt(direction_histogram(paths[name], o.dir_bins)) / math.sqrt(2)
        pos += n
    return out.astype(np.float32), _view(tr, seen, scale_kind, tuple(masked))


__all__ = ["PoseOptions", "PoseClipReport", "pose_feature", "resample_arc", "resample_time", "occupancy",
           "direction_histogram", "fill_gaps", "smooth"]
