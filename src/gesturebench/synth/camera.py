"""The synthetic camera: pinhole model, placement from sampled parameters, reusable sampling.

No OpenCV here, so pose-space synthesis (projecting the skeleton's 3-D
joints through sampled cameras, without rendering) can use the exact cameras
the renderer would: :func:`camera_for_video` returns a video's sampled
parameters and its :class:`Camera` for (seed, style, view, gesture, index, scene).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Camera:
    """Pinhole camera; ``rot`` maps world to camera (x right, y down, z forward)."""

    centre: np.ndarray
    rot: np.ndarray
    focal: float
    cx: float
    cy: float

    def to_cam(self, pts: np.ndarray) -> np.ndarray:
        return (pts - self.centre) @ self.rot.T

    def project(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = self.to_cam(pts)
        z = np.maximum(c[..., 2], 1e-3)
        uv = np.stack([self.focal * c[..., 0] / z + self.cx, self.focal * c[..., 1] / z + self.cy], -1)
        return uv, z


def look_at(centre: np.ndarray, target: np.ndarray, roll_deg: float = 0.0) -> np.ndarray:
    f = target - centre
    f = f / np.linalg.norm(f)
    r = np.cross(f, np.array([0.0, 1.0, 0.0]))
    r = r / np.linalg.norm(r)
    d = np.cross(f, r)
    if roll_deg:
        a = np.radians(roll_deg)
        r, d = np.cos(a) * r + np.sin(a) * d, -np.sin(a) * r + np.cos(a) * d
    return np.stack([r, d, f])


def make_camera(p: dict, size: int, margin: int = 0) -> Camera:
    """Camera from sampled parameters. Azimuth 0 = in front of the subject."""
    az = np.radians(p["camera_azimuth"])
    d = p["camera_distance"]
    centre = np.array([d * np.sin(az), p["camera_height"], d * np.cos(az)])
    target = np.array([p["pan_x"] * np.cos(az), p["look_height"], -p["pan_x"] * np.sin(az)])
    rot = look_at(centre, target, p.get("roll", 0.0))
    dist = float(np.linalg.norm(target - centre))
    focal = p["frame_fraction"] * size * dist / p["height"]
    return Camera(centre, rot, focal, size / 2 + margin, size / 2 + margin + p["pan_y"] * size)


def camera_for_video(seed: int, style: str, view: str, spec, index: int, size: int = 224, frames: int = 64,
                     scene=None) -> tuple[dict, Camera]:
    """(every sampled parameter, the camera) of one video, as ``synth`` would render it.

    ``spec`` is a :class:`~gesturebench.synth.gestures.GestureSpec`; ``scene`` a
    :class:`~gesturebench.synth.scene.Scene` (default: the style's built-in one,
    with camera options applied via ``Scene.with_camera``). The camera is the
    one at rest: per-frame shake and roll jitter are the renderer's.
    """
    from .randomize import sample_params

    p = sample_params(seed, style, view, spec, index, size, frames, scene=scene)
    return p, make_camera(p, size)
