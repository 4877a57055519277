"""``motion``: a training-free spatio-temporal descriptor in the spirit of dense
trajectories (Wang et al., "Dense trajectories and motion boundary descriptors").

Per clip of T grey frames (values in [0, 1] after undoing the spec's normalisation):

1. **Camera motion.** Dense optical flow (OpenCV Farneback) between consecutive
   sampled frames on a small ``coarse_size`` copy; the median vector of each
   pair is the camera's translation (the background fills most of the frame).
   Its running sum gives every frame's offset.
2. **Actor box.** The compensated flow magnitude, averaged over the clip, is
   the motion energy map. Cells above ``median + BOX_THRESHOLD * (p99 - median)``
   vote with their excess energy; the square box spanning the 2nd..98th weighted
   percentiles of their coordinates, widened by ``BOX_MARGIN`` on each side and at
   least ``MIN_BOX`` of the frame, is where the actor moves. A clip with no
   motion above ``MIN_ENERGY`` uses the whole frame.
3. **Stabilised crop.** That box, shifted by each frame's camera offset, is cut
   from every frame and resized to ``flow_size`` x ``flow_size`` (the working
   size), so the actor is described at a fixed scale whatever its size in the
   frame and handheld shake is mostly removed.
4. **Flow on the crop.** Farneback flow of the crop minus its median
   (residual camera motion); vectors shorter than ``MIN_FLOW`` pixels, and a
   ``FLOW_BORDER`` band where Farneback is unreliable, count as no motion.
5. **Mirror canonicalisation** (``mirror``, on by default). When the left half of
   the crop moves more than the right half, the crop and its flow are mirrored
   (flow x negated), so the busier side is always on the right: a gesture seen
   from the front or the back, or performed with the other arm, looks alike.
   Left-versus-right *direction* of motion on a centred path is then no longer
   told apart (``mirror=False`` keeps it).
6. **Descriptors on the crop.** HOG: unsigned image-gradient orientations of
   every frame; HOF: signed flow directions; MBHx / MBHy: signed orientations of
   the spatial gradients of the flow's x and y components (motion boundaries).
   Each pixel votes for its orientation with its magnitude, split linearly
   between the two nearest bins, into a histogram per cell of a ``grid`` x
   ``grid`` spatial grid and per temporal segment (``segments`` equal parts).
7. **Motion energy image (MEI).** Per pixel of the crop, the largest absolute
   difference over the clip from the clip's temporal median frame, area-pooled to
   ``mei_grid`` x ``mei_grid``: where around the actor the limbs went, whatever
   the sampling rate or the number of repetitions (Bobick & Davis temporal templates).

Each block is power-normalised (square root, the histograms are non-negative),
L2-normalised and weighted by ``BLOCK_WEIGHTS`` (HOG, the appearance block, is
halved: appearance is what differs most between styles); the concatenation is
L2-normalised again.

feature_dim = segments * grid^2 * (hog_bins + 3 * flow_bins) + mei_grid^2   (1120 by default)
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ConfigError, WeightsError
from ..base import Encoder, InputSpec
from ._clips import check_clips

if TYPE_CHECKING:
    import torch

    from ..registry import EncoderEntry

#: Farneback settings: pyramid scale, levels, window, iterations, poly_n, poly_sigma.
#: Three levels follow the large displacements between TSN-sampled frames.
FARNEBACK = (0.5, 3, 9, 2, 5, 1.1)
#: Flow slower than this (pixels per sampled-frame step at ``flow_size``) is set to
#: zero: Farneback returns tiny non-zero noise on static frames, which the per-block
#: L2 normalisation would otherwise blow up into a full-weight "motion" signature.
MIN_FLOW = 0.05
#: Farneback is unreliable within a few pixels of the image edge (spurious flow
#: even between identical frames); that band is set to zero.
FLOW_BORDER = 3
#: Actor box (step 2 of the module docstring): threshold between the energy map's
#: median and its 99th percentile; weighted-percentile tails cut on each side;
#: margin added on each side (fraction of the box); smallest box (fraction of the frame).
BOX_THRESHOLD = 0.3
BOX_TAIL = 0.02
BOX_MARGIN = 0.15
MIN_BOX = 0.3
#: Mean compensated flow (coarse pixels per step) below which nothing moves.
MIN_ENERGY = 0.05
#: Weights of the HOG, HOF, MBHx, MBHy and MEI blocks (each unit-norm before weighting).
BLOCK_WEIGHTS = (0.5, 1.0, 1.0, 1.0, 1.0)
_GREY = np.array((0.299, 0.587, 0.114), dtype=np.float32)


def orientation_histograms(
    dx: np.ndarray, dy: np.ndarray, index: np.ndarray, n_cells: int, bins: int, signed: bool
) -> np.ndarray:
    """Magnitude-weighted orientation histograms of a vector field.

    dx, dy: float32 arrays of one shape; ``index``: int64 of that shape, each
    element's cell (0..n_cells-1). Bins are centred at ``(k + 0.5) * period / bins``
    (period 2*pi when ``signed``, pi otherwise); each vote is split linearly
    between the two nearest centres. Returns float64 (n_cells * bins,), cell-major.
    """
    import cv2

    width = dx.shape[-1]
    mag, ang = cv2.cartToPolar(  # angle in [0, 2*pi]; far faster than np.arctan2
        np.ascontiguousarray(dx, dtype=np.float32).reshape(-1, width),
        np.ascontiguousarray(dy, dtype=np.float32).reshape(-1, width),
    )
    period = 2.0 * math.pi if signed else math.pi
    # Shift by +bins so the value is positive and int truncation is floor.
    pos = ang.ravel() * np.float32(bins / period) + np.float32(bins - 0.5)
    lo = pos.astype(np.int64)
    frac = pos - lo
    fold = np.arange(4 * bins + 2, dtype=np.int64) % bins  # lo is in [bins - 1, 3 * bins]
    base = index.reshape(-1) * bins
    mag = mag.ravel()
    w1 = mag * frac
    size = n_cells * bins
    return np.bincount(base + fold[lo], mag - w1, minlength=size) + np.bincount(base + fold[lo + 1], w1, minlength=size)


def _gradients(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central differences along the last two axes of (N, H, W); zero on the border."""
    gx = np.zeros_like(f)
    gy = np.zeros_like(f)
    gx[:, :, 1:-1] = f[:, :, 2:] - f[:, :, :-2]
    gy[:, 1:-1, :] = f[:, 2:, :] - f[:, :-2, :]
    return gx, gy


def _power_l2(h: np.ndarray) -> np.ndarray:
    h = np.sign(h) * np.sqrt(np.abs(h))
    n = float(np.linalg.norm(h))
    return h / n if n > 0 else h


def dense_flow(frames: np.ndarray) -> np.ndarray:
    """uint8 (T, H, W) -> float32 (T-1, H, W, 2) Farneback flow between consecutive frames."""
    import cv2

    return np.stack(
        [cv2.calcOpticalFlowFarneback(frames[i], frames[i + 1], None, *FARNEBACK, 0) for i in range(len(frames) - 1)]
    )


def camera_motion(flow: np.ndarray, border: int = FLOW_BORDER) -> np.ndarray:
    """(N, H, W, 2) flow -> (N, 2): the median vector of each field, ignoring a border
    band (taken on every other row and column: a quarter of the cost, same estimate
    for a field this smooth)."""
    inner = flow[:, border : flow.shape[1] - border : 2, border : flow.shape[2] - border : 2]
    return np.median(inner.reshape(len(flow), -1, 2), axis=1).astype(np.float32)


def compensate(flow: np.ndarray, border: int = FLOW_BORDER, motion: np.ndarray | None = None) -> np.ndarray:
    """Subtract each field's median vector (camera translation; ``motion`` if already
    computed by :func:`camera_motion`); zero a ``border`` band."""
    if motion is None:
        motion = camera_motion(flow, border)
    out = flow - motion[:, None, None, :]
    b = border
    out[:, :b], out[:, -b:], out[:, :, :b], out[:, :, -b:] = 0.0, 0.0, 0.0, 0.0
    return out


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    i = int(np.searchsorted(cum, q * cum[-1]))
    return float(values[order][min(i, len(values) - 1)])


def actor_box(energy: np.ndarray, frame_size: int) -> tuple[float, float, float]:
    """Square box ``(x0, y0, side)`` in frame pixels around where ``energy`` is high.

    energy: (h, w) non-negative motion energy of a ``frame_size`` square frame
    sampled on an h x w grid. See step 2 of the module docstring; returns the
    whole frame ``(0, 0, frame_size)`` when nothing exceeds ``MIN_ENERGY``.
    """
    h, w = energy.shape
    med, top = float(np.median(energy)), float(np.percentile(energy, 99))
    excess = energy - max(med + BOX_THRESHOLD * (top - med), MIN_ENERGY)
    ys, xs = np.nonzero(excess > 0)
    if len(xs) == 0:
        return 0.0, 0.0, float(frame_size)
    wt = excess[ys, xs]
    x0 = _weighted_quantile(xs, wt, BOX_TAIL)
    x1 = _weighted_quantile(xs, wt, 1.0 - BOX_TAIL) + 1
    y0 = _weighted_quantile(ys, wt, BOX_TAIL)
    y1 = _weighted_quantile(ys, wt, 1.0 - BOX_TAIL) + 1
    sx, sy = frame_size / w, frame_size / h
    cx, cy = 0.5 * (x0 + x1) * sx, 0.5 * (y0 + y1) * sy
    side = max((x1 - x0) * sx, (y1 - y0) * sy) * (1.0 + 2.0 * BOX_MARGIN)
    side = float(min(max(side, MIN_BOX * frame_size), frame_size))
    left = min(max(cx - side / 2, 0.0), frame_size - side)
    top_ = min(max(cy - side / 2, 0.0), frame_size - side)
    return float(left), float(top_), side


def needs_mirror(speed: np.ndarray) -> bool:
    """True when the left half of the (N, H, W) flow-speed fields moves more than
    the right half: the descriptor is then taken on the mirrored crop, so that the
    busier side is always on the right (front/back views and left/right-handed
    performances of a gesture look alike)."""
    half = speed.shape[-1] // 2
    return bool(speed[..., :half].sum() > speed[..., speed.shape[-1] - half :].sum())


def stabilised_crop(grey: np.ndarray, box: tuple[float, float, float], offsets: np.ndarray, size: int) -> np.ndarray:
    """Cut ``box`` (x0, y0, side) shifted by each frame's (dx, dy) offset from uint8
    (T, H, W) frames, resized to (T, size, size); pixels outside the frame repeat the edge."""
    import cv2

    x0, y0, side = box
    scale = size / side
    out = np.empty((grey.shape[0], size, size), dtype=np.uint8)
    for t in range(grey.shape[0]):
        dx, dy = float(offsets[t, 0]), float(offsets[t, 1])
        m = np.array([[scale, 0.0, -(x0 + dx) * scale], [0.0, scale, -(y0 + dy) * scale]], dtype=np.float32)
        out[t] = cv2.warpAffine(grey[t], m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out


class MotionEncoder(Encoder):
    """Person-centred HOG + HOF + MBH + MEI descriptor; see the module docstring."""

    version = "2"

    def __init__(
        self,
        spec: InputSpec,
        grid: int = 4,
        segments: int = 2,
        hog_bins: int = 9,
        flow_bins: int = 8,
        flow_size: int = 64,
        coarse_size: int = 48,
        mei_grid: int = 8,
        mirror: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(mirror, bool) and mirror not in (0, 1):
            raise ConfigError(f"motion encoder option mirror must be true or false; got {mirror!r}")
        opts = {"grid": grid, "segments": segments, "hog_bins": hog_bins, "flow_bins": flow_bins,
                "flow_size": flow_size, "coarse_size": coarse_size, "mei_grid": mei_grid}
        for key, value in opts.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"motion encoder option {key} must be an integer >= 1; got {value!r}")
        if spec.num_frames < 2:
            raise ConfigError(f"motion encoder needs at least 2 frames for optical flow; got num_frames={spec.num_frames}")
        if segments > spec.num_frames - 1:
            raise ConfigError(
                f"motion encoder segments ({segments}) must be <= num_frames - 1 ({spec.num_frames - 1})"
            )
        for key in ("flow_size", "coarse_size"):
            if opts[key] <= 4 * FLOW_BORDER:
                raise ConfigError(f"motion encoder {key} must be > {4 * FLOW_BORDER}; got {opts[key]}")
        if grid > flow_size or mei_grid > flow_size:
            raise ConfigError(
                f"motion encoder grid ({grid}) and mei_grid ({mei_grid}) must be <= flow_size ({flow_size})"
            )
        self.spec = spec
        self.grid, self.segments = grid, segments
        self.hog_bins, self.flow_bins, self.flow_size = hog_bins, flow_bins, flow_size
        self.coarse_size, self.mei_grid = coarse_size, mei_grid
        self.mirror = bool(mirror)
        self.feature_dim = segments * grid * grid * (hog_bins + 3 * flow_bins) + mei_grid * mei_grid
        self._index_cache: dict[tuple[int, int], np.ndarray] = {}

    def options(self) -> dict[str, int | bool]:
        return {
            "grid": self.grid,
            "segments": self.segments,
            "hog_bins": self.hog_bins,
            "flow_bins": self.flow_bins,
            "flow_size": self.flow_size,
            "coarse_size": self.coarse_size,
            "mei_grid": self.mei_grid,
            "mirror": self.mirror,
        }

    def identity(self) -> dict[str, Any]:
        constants = {"farneback": list(FARNEBACK), "min_flow": MIN_FLOW, "flow_border": FLOW_BORDER,
                     "box": [BOX_THRESHOLD, BOX_TAIL, BOX_MARGIN, MIN_BOX, MIN_ENERGY],
                     "block_weights": list(BLOCK_WEIGHTS)}
        return {**super().identity(), "options": self.options(), **constants}

    def _cell_index(self, n: int, size: int) -> np.ndarray:
        """(n, size, size) int: segment * grid^2 + spatial cell of each element."""
        key = (n, size)
        if key not in self._index_cache:
            g = self.grid
            rows = (np.arange(size) * g) // size
            cell = rows[:, None] * g + rows[None, :]
            seg = (np.arange(n) * self.segments) // n
            self._index_cache[key] = seg[:, None, None] * (g * g) + cell[None]
        return self._index_cache[key]

    def locate(self, grey: np.ndarray) -> tuple[tuple[float, float, float], np.ndarray]:
        """uint8 (T, S, S) -> (actor box (x0, y0, side) in frame pixels, (T, 2) camera
        offset of each frame relative to the clip's mean position, in frame pixels)."""
        import cv2

        s, c = grey.shape[1], self.coarse_size
        small = np.stack([cv2.resize(g, (c, c), interpolation=cv2.INTER_AREA) for g in grey]) if s != c else grey
        flow = dense_flow(small)
        cam = camera_motion(flow, 2)
        offsets = np.concatenate([np.zeros((1, 2), np.float32), np.cumsum(cam, axis=0)]) * np.float32(s / c)
        offsets -= offsets.mean(axis=0)
        energy = np.hypot(*np.moveaxis(compensate(flow, 2, cam), -1, 0)).mean(axis=0)
        return actor_box(energy, s), offsets

    def describe(self, grey: np.ndarray) -> np.ndarray:
        """uint8 grey frames (T, S, S) -> float32 (feature_dim,)."""
        import cv2

        t, w = grey.shape[0], self.flow_size
        box, offsets = self.locate(grey)
        crop = stabilised_crop(grey, box, offsets, w)
        flow = compensate(dense_flow(crop))
        speed = np.hypot(flow[..., 0], flow[..., 1])
        flow[speed < MIN_FLOW] = 0.0
        if self.mirror and needs_mirror(speed):
            crop = crop[:, :, ::-1]
            flow = flow[:, :, ::-1] * np.array([-1.0, 1.0], dtype=np.float32)
        n_cells = self.segments * self.grid * self.grid
        f = crop.astype(np.float32) / 255.0
        gx, gy = _gradients(f)
        hog = orientation_histograms(gx, gy, self._cell_index(t, w), n_cells, self.hog_bins, signed=False)

        u, v = flow[..., 0], flow[..., 1]
        index = self._cell_index(t - 1, w)
        hof = orientation_histograms(u, v, index, n_cells, self.flow_bins, signed=True)
        mbhx = orientation_histograms(*_gradients(u), index, n_cells, self.flow_bins, signed=True)
        mbhy = orientation_histograms(*_gradients(v), index, n_cells, self.flow_bins, signed=True)

        f *= 255.0
        mei = np.abs(f - np.median(f, axis=0)).max(axis=0)
        m = self.mei_grid
        mei = cv2.resize(mei, (m, m), interpolation=cv2.INTER_AREA).ravel().astype(np.float64)

        blocks = (hog, hof, mbhx, mbhy, mei)
        out = np.concatenate([wt * _power_l2(h) for wt, h in zip(BLOCK_WEIGHTS, blocks)])
        n = float(np.linalg.norm(out))
        return (out / n if n > 0 else out).astype(np.float32)

    def grey_frames(self, clips: torch.Tensor) -> np.ndarray:
        """Normalised clips -> uint8 grey frames (B, T, S, S).

        Undoing the spec's normalisation and the RGB -> grey weighting are both
        linear, so they are folded into one weighted channel sum (one pass over
        the data instead of three).
        """
        x = clips.detach().float().cpu().numpy()
        axis = "bcthw" if self.spec.layout == "CTHW" else "btchw"
        std = np.asarray(self.spec.std, dtype=np.float32)
        mean = np.asarray(self.spec.mean, dtype=np.float32)
        grey = np.einsum(f"{axis},c->bthw", x, _GREY * std * np.float32(255.0))
        grey += np.float32(255.0 * float(_GREY @ mean))
        return np.clip(np.rint(grey), 0, 255).astype(np.uint8)

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        import torch

        check_clips(self.name, clips, self.spec)
        grey = self.grey_frames(clips)
        out = np.empty((grey.shape[0], self.feature_dim), dtype=np.float32)
        for i in range(grey.shape[0]):
            out[i] = self.describe(grey[i])
        return torch.from_numpy(out)


def create(entry: EncoderEntry, weights: Any = None, **options: Any) -> MotionEncoder:
    """Registry factory for ``motion`` presets. ``options``: grid, segments, hog_bins,
    flow_bins, flow_size, coarse_size, mei_grid, mirror, and spec fields num_frames, size."""
    from dataclasses import replace

    if weights is not None:
        raise WeightsError(f"encoder {entry.name!r} is training-free and takes no weights; got {weights!s}")
    spec_fields = {k: options.pop(k) for k in ("num_frames", "size") if k in options}
    allowed = ("grid", "segments", "hog_bins", "flow_bins", "flow_size", "coarse_size", "mei_grid", "mirror",
               "num_frames", "size")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for encoder {entry.name!r}; allowed: {', '.join(allowed)}")
    spec = replace(entry.spec, **spec_fields) if spec_fields else entry.spec
    return MotionEncoder(spec, **options)
