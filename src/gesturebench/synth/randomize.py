"""Sampling every parameter of one video from a seed derived from its identity.

``video_seed(seed, style, view, class, index)`` hashes the video's identity,
so a video's parameters never depend on worker count, order, or which other
videos are generated. All parameters are plain JSON scalars (colours as
``#rrggbb``) so they go straight into the parameter table.
"""

from __future__ import annotations

import hashlib
import colorsys

import numpy as np

from .gestures import GestureSpec

STYLES = ("default", "target")
VIEWS = ("ground", "air")
STYLE_DIR = {"default": "syn", "target": "tgt"}
#: RoCoG-v2 camera azimuths around the subject: 30..330 degrees in 60-degree steps.
AZIMUTHS = (30, 90, 150, 210, 270, 330)


def video_seed(seed: int, style: str, view: str, class_name: str, index: int) -> int:
    key = f"gesturebench-synth/v1/{seed}/{style}/{view}/{class_name}/{index}".encode()
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "little") >> 1


def _hex(c) -> str:
    r, g, b = (int(round(min(max(x, 0.0), 1.0) * 255)) for x in c)
    return f"#{r:02x}{g:02x}{b:02x}"


def _hsv(rng, h, s, v) -> str:
    """A colour with hue/saturation/value drawn uniformly from the given ranges."""
    return _hex(colorsys.hsv_to_rgb(rng.uniform(*h) % 1.0, rng.uniform(*s), rng.uniform(*v)))


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


SKIN_TONES = ((0.07, 0.11), (0.25, 0.6), (0.35, 0.95))


def sample_params(
    seed: int, style: str, view: str, spec: GestureSpec, index: int, size: int, frames: int
) -> dict:
    """Every sampled parameter of one video, as an ordered flat dict."""
    vs = video_seed(seed, style, view, spec.name, index)
    rng = np.random.default_rng(vs)
    tgt = style == "target"
    p: dict = {
        "class_name": spec.name, "label": spec.label, "view": view, "style": style, "index": index,
        "video_seed": vs, "render_seed": int(rng.integers(0, 2**31 - 1)), "size": size, "frames": frames,
    }
    lo, hi = spec.repeats
    p["repeats"] = int(rng.integers(lo, min(hi, 4) + 1)) if lo < hi else lo
    p["speed"] = _r(rng.uniform(1.0, 1.25))
    p["amplitude"] = _r(rng.uniform(0.88, 1.08))
    p["timing_jitter"] = _r(rng.uniform(0.0, 0.12))
    p["angle_jitter"] = _r(rng.uniform(0.0, 4.0))
    p["idle_before"] = _r(rng.uniform(0.15, 0.8))
    p["idle_after"] = _r(rng.uniform(0.15, 0.8))
    p["mirror"] = bool(rng.random() < (0.25 if tgt else 0.1))
    p["sway"] = _r(rng.uniform(0.0, 1.0))
    # body
    p["height"] = _r(rng.uniform(1.55, 1.95), 3)
    p["girth"] = _r(rng.uniform(0.85, 1.45) if not tgt else rng.uniform(1.0, 1.5), 3)
    p["shoulder_width"] = _r(rng.uniform(0.9, 1.12), 3)
    p["skin"] = _hsv(rng, *SKIN_TONES)
    if tgt:  # camouflage-like uniform, helmet, subdued gear
        p["headgear"] = "helmet"
        p["hair"] = _hsv(rng, (0.15, 0.28), (0.25, 0.5), (0.25, 0.45))
        p["shirt"] = _hsv(rng, (0.12, 0.3), (0.25, 0.55), (0.3, 0.55))
        p["shirt_front"] = _hsv(rng, (0.12, 0.3), (0.2, 0.5), (0.2, 0.4))
        p["trousers"] = _hsv(rng, (0.08, 0.3), (0.25, 0.55), (0.25, 0.5))
        p["boots"] = _hsv(rng, (0.05, 0.1), (0.3, 0.6), (0.12, 0.25))
        p["glove"] = _hsv(rng, (0.05, 0.15), (0.2, 0.5), (0.15, 0.35))
        p["armband"] = _hsv(rng, (0.0, 0.05), (0.6, 0.9), (0.55, 0.8))
        p["pack"] = _hsv(rng, (0.1, 0.25), (0.3, 0.6), (0.2, 0.4))
        p["long_sleeves"] = True
        p["has_pack"] = bool(rng.random() < 0.7)
    else:
        p["headgear"] = "hair" if rng.random() < 0.75 else "cap"
        p["hair"] = _hsv(rng, (0.02, 0.1), (0.2, 0.8), (0.08, 0.55))
        p["shirt"] = _hsv(rng, (0.0, 1.0), (0.3, 0.85), (0.35, 0.9))
        shirt = [int(p["shirt"][i:i + 2], 16) / 255 for i in (1, 3, 5)]
        light = rng.uniform(0.15, 0.35)  # the shirt's front panel is a lighter shade of it
        p["shirt_front"] = _hex([c + (1 - c) * light for c in shirt])
        p["trousers"] = _hsv(rng, (0.55, 0.7), (0.2, 0.7), (0.15, 0.55))
        p["boots"] = _hsv(rng, (0.0, 1.0), (0.0, 0.3), (0.08, 0.3))
        p["glove"] = p["skin"] if rng.random() < 0.6 else _hsv(rng, (0.0, 1.0), (0.0, 0.3), (0.1, 0.3))
        p["armband"] = _hsv(rng, (0.95, 1.05), (0.7, 1.0), (0.75, 1.0))
        p["pack"] = _hsv(rng, (0.0, 1.0), (0.2, 0.6), (0.2, 0.5))
        p["long_sleeves"] = bool(rng.random() < 0.5)
        p["has_pack"] = bool(rng.random() < 0.5)
    # scene
    if tgt:  # arid/urban palette, hazy sky
        p["ground_a"] = _hsv(rng, (0.07, 0.12), (0.2, 0.45), (0.45, 0.7))
        p["ground_b"] = _hsv(rng, (0.05, 0.12), (0.1, 0.35), (0.3, 0.55))
        p["sky_top"] = _hsv(rng, (0.55, 0.62), (0.05, 0.25), (0.7, 0.9))
        p["sky_horizon"] = _hsv(rng, (0.08, 0.15), (0.05, 0.2), (0.75, 0.95))
        p["hill"] = _hsv(rng, (0.05, 0.12), (0.1, 0.3), (0.4, 0.6))
        p["clutter_a"] = _hsv(rng, (0.05, 0.12), (0.1, 0.4), (0.3, 0.6))
        p["clutter_b"] = _hsv(rng, (0.0, 1.0), (0.0, 0.1), (0.35, 0.6))
    else:  # grassland
        p["ground_a"] = _hsv(rng, (0.2, 0.33), (0.35, 0.7), (0.3, 0.6))
        p["ground_b"] = _hsv(rng, (0.1, 0.3), (0.3, 0.7), (0.2, 0.5))
        p["sky_top"] = _hsv(rng, (0.55, 0.64), (0.4, 0.75), (0.7, 1.0))
        p["sky_horizon"] = _hsv(rng, (0.55, 0.62), (0.1, 0.3), (0.85, 1.0))
        p["hill"] = _hsv(rng, (0.25, 0.45), (0.2, 0.5), (0.3, 0.55))
        p["clutter_a"] = _hsv(rng, (0.22, 0.38), (0.4, 0.8), (0.2, 0.5))
        p["clutter_b"] = _hsv(rng, (0.0, 1.0), (0.0, 0.15), (0.4, 0.7))
    p["texture_scale"] = _r(rng.uniform(0.6, 1.6))
    p["cloudiness"] = _r(rng.uniform(0.0, 1.0))
    p["hills"] = _r(rng.uniform(0.0, 1.5))
    p["fog_distance"] = _r(rng.uniform(60, 250) if not tgt else rng.uniform(30, 90), 1)
    p["clutter"] = int(rng.integers(0, 13))
    # lighting
    p["light_azimuth"] = _r(rng.uniform(0, 360), 2)
    p["light_elevation"] = _r(rng.uniform(20, 75), 2)
    p["light_intensity"] = _r(rng.uniform(0.55, 0.95))
    p["ambient"] = _r(rng.uniform(0.35, 0.55))
    # camera
    p["camera_azimuth"] = _r(AZIMUTHS[int(rng.integers(0, 6))] + rng.uniform(-4, 4), 2)
    if view == "ground":
        p["camera_height"] = _r(rng.normal(1.75, 0.08), 3)
        p["camera_distance"] = _r(rng.uniform(4.0, 6.5), 3)
        p["look_height"] = _r(rng.uniform(0.85, 1.05) * p["height"] * 0.55, 3)
        p["frame_fraction"] = _r(rng.uniform(0.55, 0.72))
    else:
        h = rng.uniform(8.0, 30.0)
        p["camera_height"] = _r(h, 3)
        p["camera_distance"] = _r(h / np.tan(np.radians(rng.uniform(35, 70))), 3)
        p["look_height"] = _r(rng.uniform(0.8, 1.0) * p["height"] * 0.5, 3)
        p["frame_fraction"] = _r(rng.uniform(0.42, 0.62))
    p["pan_x"] = _r(rng.uniform(-0.25, 0.25), 3)
    p["pan_y"] = _r(rng.uniform(-0.04, 0.04), 3)
    p["roll"] = _r(rng.uniform(-6, 6) if tgt else rng.uniform(-1, 1), 2)
    # sensor and motion
    if tgt:  # handheld camera: strong shake and roll, blur, heavy noise, harder compression
        p["shake_px"] = _r(rng.uniform(2.0, 5.0), 3)
        p["shake_hz"] = _r(rng.uniform(0.5, 1.5), 3)
        p["roll_jitter"] = _r(rng.uniform(0.8, 2.5), 3)
        p["motion_blur"] = _r(rng.uniform(0.3, 0.55), 3)
        p["defocus"] = _r(rng.uniform(0.7, 1.4), 3)
        p["noise_sigma"] = _r(rng.uniform(8.0, 16.0), 3)
        p["vignette"] = _r(rng.uniform(0.2, 0.45), 3)
        p["crf"] = int(rng.integers(24, 31))
    else:
        p["shake_px"] = _r(rng.uniform(0.0, 1.5) if view == "ground" else rng.uniform(0.5, 2.5), 3)
        p["shake_hz"] = _r(rng.uniform(0.3, 1.0), 3)
        p["roll_jitter"] = 0.0
        p["motion_blur"] = _r(rng.uniform(0.0, 0.3), 3)
        p["defocus"] = 0.0
        p["noise_sigma"] = _r(rng.uniform(0.0, 4.0), 3)
        p["vignette"] = 0.0
        p["crf"] = int(rng.integers(18, 26))
    return p
