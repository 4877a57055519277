"""``motion``: a training-free spatio-temporal descriptor in the spirit of dense
trajectories (Wang et al., "Dense trajectories and motion boundary descriptors").

Per clip of T grey frames (values in [0, 1] after undoing the spec's normalisation):

- **HOG**: unsigned image-gradient orientations of every sampled frame;
- **HOF**: signed directions of dense optical flow (OpenCV Farneback) between
  consecutive sampled frames, computed on a ``flow_size`` copy for speed
  (vectors shorter than ``MIN_FLOW`` pixels, and a ``FLOW_BORDER`` band at
  the image edge where Farneback is unreliable, count as no motion);
- **MBHx / MBHy**: signed orientations of the spatial gradients of the flow's
  x and y components (motion boundaries: robust to camera motion).

Each pixel votes for its orientation with its magnitude, split linearly between
the two nearest bins, into a histogram per cell of a ``grid`` x ``grid``
spatial grid and per temporal segment (``segments`` equal parts of the clip).
Each of the four blocks is power-normalised (square root, the histograms are
non-negative) and L2-normalised, so none dominates by scale; the concatenation
is L2-normalised again.

feature_dim = segments * grid^2 * (hog_bins + 3 * flow_bins)   (1056 by default)
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
#: Three levels follow the large displacements between TSN-sampled frames; one
#: iteration per level costs ~40% less than two with no measurable loss in k-NN
#: accuracy on generated gesture videos (docs/encoders.md).
FARNEBACK = (0.5, 3, 9, 1, 5, 1.1)
#: Flow slower than this (pixels per sampled-frame step at ``flow_size``) is set to
#: zero: Farneback returns tiny non-zero noise on static frames, which the per-block
#: L2 normalisation would otherwise blow up into a full-weight "motion" signature.
MIN_FLOW = 0.05
#: Farneback is unreliable within a few pixels of the image edge (spurious flow
#: even between identical frames); that band is set to zero.
FLOW_BORDER = 3
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


class MotionEncoder(Encoder):
    """HOG + HOF + MBH descriptor; see the module docstring."""

    version = "1"

    def __init__(
        self,
        spec: InputSpec,
        grid: int = 4,
        segments: int = 2,
        hog_bins: int = 9,
        flow_bins: int = 8,
        flow_size: int = 64,
    ) -> None:
        super().__init__()
        for key, value in (("grid", grid), ("segments", segments), ("hog_bins", hog_bins), ("flow_bins", flow_bins), ("flow_size", flow_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"motion encoder option {key} must be an integer >= 1; got {value!r}")
        if spec.num_frames < 2:
            raise ConfigError(f"motion encoder needs at least 2 frames for optical flow; got num_frames={spec.num_frames}")
        if segments > spec.num_frames - 1:
            raise ConfigError(
                f"motion encoder segments ({segments}) must be <= num_frames - 1 ({spec.num_frames - 1})"
            )
        if flow_size <= 4 * FLOW_BORDER:
            raise ConfigError(f"motion encoder flow_size must be > {4 * FLOW_BORDER}; got {flow_size}")
        if grid > min(spec.size, flow_size):
            raise ConfigError(f"motion encoder grid ({grid}) must be <= the frame size ({min(spec.size, flow_size)})")
        self.spec = spec
        self.grid, self.segments = grid, segments
        self.hog_bins, self.flow_bins, self.flow_size = hog_bins, flow_bins, flow_size
        self.feature_dim = segments * grid * grid * (hog_bins + 3 * flow_bins)
        self._index_cache: dict[tuple[int, int], np.ndarray] = {}

    def options(self) -> dict[str, int]:
        return {
            "grid": self.grid,
            "segments": self.segments,
            "hog_bins": self.hog_bins,
            "flow_bins": self.flow_bins,
            "flow_size": self.flow_size,
        }

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "options": self.options(), "farneback": list(FARNEBACK), "min_flow": MIN_FLOW, "flow_border": FLOW_BORDER}

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

    def describe(self, grey: np.ndarray) -> np.ndarray:
        """uint8 grey frames (T, S, S) -> float32 (feature_dim,)."""
        import cv2

        t, s = grey.shape[0], grey.shape[1]
        n_cells = self.segments * self.grid * self.grid
        f = grey.astype(np.float32) / 255.0
        gx, gy = _gradients(f)
        hog = orientation_histograms(gx, gy, self._cell_index(t, s), n_cells, self.hog_bins, signed=False)

        fs = self.flow_size
        small = [g if s == fs else cv2.resize(g, (fs, fs), interpolation=cv2.INTER_AREA) for g in grey]
        flow = np.stack(
            [cv2.calcOpticalFlowFarneback(small[i], small[i + 1], None, *FARNEBACK, 0) for i in range(t - 1)]
        )  # (T-1, fs, fs, 2) in pixels of the flow_size frame
        b = FLOW_BORDER
        flow[:, :b], flow[:, -b:], flow[:, :, :b], flow[:, :, -b:] = 0.0, 0.0, 0.0, 0.0
        flow[np.hypot(flow[..., 0], flow[..., 1]) < MIN_FLOW] = 0.0
        u, v = flow[..., 0], flow[..., 1]
        index = self._cell_index(t - 1, fs)
        hof = orientation_histograms(u, v, index, n_cells, self.flow_bins, signed=True)
        mbhx = orientation_histograms(*_gradients(u), index, n_cells, self.flow_bins, signed=True)
        mbhy = orientation_histograms(*_gradients(v), index, n_cells, self.flow_bins, signed=True)
        out = np.concatenate([_power_l2(h) for h in (hog, hof, mbhx, mbhy)])
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
    flow_bins, flow_size, and spec fields num_frames, size."""
    from dataclasses import replace

    if weights is not None:
        raise WeightsError(f"encoder {entry.name!r} is training-free and takes no weights; got {weights!s}")
    spec_fields = {k: options.pop(k) for k in ("num_frames", "size") if k in options}
    allowed = ("grid", "segments", "hog_bins", "flow_bins", "flow_size", "num_frames", "size")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for encoder {entry.name!r}; allowed: {', '.join(allowed)}")
    spec = replace(entry.spec, **spec_fields) if spec_fields else entry.spec
    return MotionEncoder(spec, **options)
