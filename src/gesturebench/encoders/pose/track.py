"""The clip representation shared by the ``pose`` encoder and joints-only synthesis.

A :class:`PoseTrack` is named 2-D joints over time plus a visibility per joint
and frame: what a pose detector says about a clip, or what projecting a
skeleton's ground-truth 3-D joints through a camera gives. Everything after it
(:mod:`.features`) is the same code for both sources, so a detected clip and a
synthesised one can be compared feature for feature.

Conventions: ``xy`` is in pixels of the frame the joints were found in, x to
the right, y down. ``l_``/``r_`` are the *subject's* left and right (as
BlazePose and our skeleton both name them), so a person facing the camera has
``l_shoulder`` on the image's right.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError

#: The joints the clip feature reads, in this order.
POSE_JOINTS: tuple[str, ...] = (
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip",
)

#: BlazePose's 33 landmarks (MediaPipe ``PoseLandmark`` order), in our naming.
BLAZEPOSE_LANDMARKS: tuple[str, ...] = (
    "nose", "l_eye_inner", "l_eye", "l_eye_outer", "r_eye_inner", "r_eye", "r_eye_outer",
    "l_ear", "r_ear", "mouth_l", "mouth_r",
    "l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist",
    "l_pinky", "r_pinky", "l_index", "r_index", "l_thumb", "r_thumb",
    "l_hip", "r_hip", "l_knee", "r_knee", "l_ankle", "r_ankle",
    "l_heel", "r_heel", "l_foot_index", "r_foot_index",
)


@dataclass(frozen=True)
class PoseTrack:
    """Named 2-D joints of one clip: ``xy`` float32 (T, J, 2) pixels, ``visibility``
    float32 (T, J) in [0, 1] (0: not seen in that frame), ``joints`` the J names,
    ``size`` (width, height) of the frame."""

    xy: np.ndarray
    visibility: np.ndarray
    joints: tuple[str, ...]
    size: tuple[int, int]

    def __post_init__(self) -> None:
        xy = np.asarray(self.xy, dtype=np.float32)
        vis = np.asarray(self.visibility, dtype=np.float32)
        joints = tuple(self.joints)
        if xy.ndim != 3 or xy.shape[-1] != 2 or xy.shape[1] != len(joints):
            raise ConfigError(f"PoseTrack.xy must be (T, {len(joints)}, 2) for {len(joints)} joints; got {xy.shape}")
        if vis.shape != xy.shape[:2]:
            raise ConfigError(f"PoseTrack.visibility must be (T, J) = {xy.shape[:2]}; got {vis.shape}")
        if xy.shape[0] < 1:
            raise ConfigError("PoseTrack needs at least one frame")
        if len(set(joints)) != len(joints):
            raise ConfigError(f"PoseTrack.joints repeat a name: {joints}")
        object.__setattr__(self, "xy", xy)
        object.__setattr__(self, "visibility", np.clip(np.nan_to_num(vis), 0.0, 1.0))
        object.__setattr__(self, "joints", joints)
        object.__setattr__(self, "size", (int(self.size[0]), int(self.size[1])))

    @property
    def num_frames(self) -> int:
        return int(self.xy.shape[0])

    def select(self, names: tuple[str, ...] = POSE_JOINTS) -> PoseTrack:
        """The track restricted to ``names`` (in that order); :class:`ConfigError` if one is absent."""
        missing = [n for n in names if n not in self.joints]
        if missing:
            raise ConfigError(f"pose track has no joint(s) {', '.join(missing)}; it has {', '.join(self.joints)}")
        idx = [self.joints.index(n) for n in names]
        return PoseTrack(self.xy[:, idx], self.visibility[:, idx], names, self.size)

    def __repr__(self) -> str:
        return f"PoseTrack(frames={self.num_frames}, joints={len(self.joints)}, size={self.size})"


def landmarks_to_track(
    landmarks: np.ndarray, size: tuple[int, int], names: tuple[str, ...] = BLAZEPOSE_LANDMARKS
) -> PoseTrack:
    """(T, 33, 3) normalised landmarks (x, y in [0, 1] of width/height, visibility; NaN rows for
    frames without a detection) -> PoseTrack in pixels, with visibility 0 where undetected."""
    lm = np.asarray(landmarks, dtype=np.float32)
    if lm.ndim != 3 or lm.shape[1:] != (len(names), 3):
        raise ConfigError(f"landmarks must be (T, {len(names)}, 3); got {lm.shape}")
    w, h = size
    xy = lm[..., :2] * np.array([w, h], dtype=np.float32)
    vis = lm[..., 2]
    missing = ~np.isfinite(xy).all(-1) | ~np.isfinite(vis)
    xy = np.where(missing[..., None], 0.0, xy)
    vis = np.where(missing, 0.0, vis)
    return PoseTrack(xy, vis, names, (w, h))
