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
from .scene import Scene, default_scene

STYLES = ("default", "target")
VIEWS = ("ground", "air")
STYLE_DIR = {"default": "syn", "target": "tgt"}
#: RoCoG-v2 camera azimuths around the subject: 30..330 degrees in 60-degree steps (the scenes' default).
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


#: The parameter table's columns from sample_params, in order (the writer adds name, path,
#: split, seed before and fps, duration after). Fixed, so a resumed run writes the same table.
PARAM_COLUMNS = (
    "class_name", "label", "view", "style", "index", "video_seed", "render_seed", "size", "frames",
    "repeats", "speed", "amplitude", "timing_jitter", "angle_jitter", "idle_before", "idle_after", "mirror", "sway",
    "height", "girth", "shoulder_width", "skin", "headgear", "hair", "shirt", "shirt_front", "trousers", "boots",
    "glove", "armband", "pack", "long_sleeves", "has_pack",
    "ground_a", "ground_b", "sky_top", "sky_horizon", "hill", "clutter_a", "clutter_b",
    "texture_scale", "cloudiness", "hills", "fog_distance", "clutter",
    "light_azimuth", "light_elevation", "light_intensity", "ambient",
    "camera_azimuth", "camera_height", "camera_distance", "camera_elevation", "look_height", "frame_fraction",
    "pan_x", "pan_y", "roll",
    "shake_px", "shake_hz", "roll_jitter", "motion_blur", "defocus", "noise_sigma", "vignette", "crf",
    "scene", "scene_hash", "gesture_hash", "renderer",
)
#: the aim point is ``look`` times this fraction of body height (about the hips; lower from the air)
LOOK_SCALE = {"ground": 0.55, "air": 0.5}


class _Draw:
    """Draws values from a scene's normalised specs with one generator, in call order."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng

    def value(self, spec: dict):
        if "fixed" in spec:
            return spec["fixed"]
        if "uniform" in spec:
            lo, hi = spec["uniform"]
            if isinstance(lo, int) and isinstance(hi, int):  # integers: both ends included
                return int(self.rng.integers(lo, hi + 1))
            return self.rng.uniform(lo, hi)
        if "normal" in spec:
            return self.rng.normal(*spec["normal"])
        values = spec["choice"]
        return values[int(self.rng.integers(0, len(values)))]

    def share(self, spec: dict) -> bool:
        return bool(spec["fixed"]) if "fixed" in spec else bool(self.rng.random() < spec["share"])

    def headgear(self, spec: dict) -> str:
        if "fixed" in spec:
            return spec["fixed"]
        r, acc = self.rng.random(), 0.0
        for name, w in zip(spec["choice"], spec["weights"]):
            acc += w
            if r < acc:
                return name
        return spec["choice"][-1]

    def colour(self, spec: dict, p: dict) -> str:
        if "hex" in spec:
            return spec["hex"]
        if "hsv" in spec:
            return _hsv(self.rng, *spec["hsv"])
        if "lighten" in spec:
            base = [int(p[spec["lighten"]][i:i + 2], 16) / 255 for i in (1, 3, 5)]
            light = self.value(spec["by"])
            return _hex([c + (1 - c) * light for c in base])
        return p[spec["same_as"]] if self.rng.random() < spec["share"] else self.colour(spec["otherwise"], p)


_GESTURE_HASHES: dict[int, tuple[GestureSpec, str]] = {}


def _gesture_hash(spec: GestureSpec) -> str:
    hit = _GESTURE_HASHES.get(id(spec))
    if hit is None or hit[0] is not spec:
        from .gestures import gesture_hash

        hit = _GESTURE_HASHES[id(spec)] = (spec, gesture_hash(spec))
    return hit[1]


def sample_params(
    seed: int, style: str, view: str, spec: GestureSpec, index: int, size: int, frames: int,
    scene: Scene | None = None,
) -> dict:
    """Every sampled parameter of one video, as an ordered flat dict (keys: PARAM_COLUMNS).

    ``scene`` (default: the style's built-in scene) gives every distribution;
    values are drawn in a fixed order from one generator seeded by the video's
    identity, so the built-in scenes reproduce earlier releases exactly.
    """
    if scene is None:
        scene = default_scene(style)
    sc = scene.spec
    vs = video_seed(seed, style, view, spec.name, index)
    rng = np.random.default_rng(vs)
    d = _Draw(rng)
    p: dict = {
        "class_name": spec.name, "label": spec.label, "view": view, "style": style, "index": index,
        "video_seed": vs, "render_seed": int(rng.integers(0, 2**31 - 1)), "size": size, "frames": frames,
    }
    lo, hi = spec.repeats  # a per-gesture range (a clap may repeat 4-6 times)
    p["repeats"] = int(rng.integers(lo, hi + 1)) if lo < hi else lo
    perf = sc["performance"]
    for k in ("speed", "amplitude", "timing_jitter", "angle_jitter", "idle_before", "idle_after"):
        p[k] = _r(d.value(perf[k]))
    p["mirror"] = d.share(perf["mirror"])
    p["sway"] = _r(d.value(perf["sway"]))
    body, cloth, bg = sc["body"], sc["clothing"], sc["background"]
    for k in ("height", "girth", "shoulder_width"):
        p[k] = _r(d.value(body[k]), 3)
    p["skin"] = d.colour(body["skin"], p)
    p["headgear"] = d.headgear(cloth["headgear"])
    for k in ("hair", "shirt", "shirt_front", "trousers", "boots", "glove", "armband", "pack"):
        p[k] = d.colour(cloth[k], p)
    p["long_sleeves"] = d.share(cloth["long_sleeves"])
    p["has_pack"] = d.share(cloth["has_pack"])
    for k in ("ground_a", "ground_b", "sky_top", "sky_horizon", "hill", "clutter_a", "clutter_b"):
        p[k] = d.colour(bg[k], p)
    for k in ("texture_scale", "cloudiness", "hills"):
        p[k] = _r(d.value(bg[k]))
    p["fog_distance"] = _r(d.value(bg["fog_distance"]), 1)
    p["clutter"] = int(d.value(bg["clutter"]))
    light = sc["lighting"]
    for k in ("light_azimuth", "light_elevation"):
        p[k] = _r(d.value(light[k]), 2)
    for k in ("light_intensity", "ambient"):
        p[k] = _r(d.value(light[k]))
    p.update(sample_camera(d, sc["camera"], view, p["height"]))
    deg = sc["degradation"]
    p["shake_px"] = _r(d.value(sc["camera"][view]["shake_px"]), 3)
    for k in ("shake_hz", "roll_jitter", "motion_blur", "defocus", "noise_sigma", "vignette"):
        p[k] = _r(d.value(deg[k]), 3)
    p["crf"] = int(d.value(deg["crf"]))
    from .version import RENDERER_VERSION

    p["scene"] = scene.name
    p["scene_hash"] = scene.view_hash(view)
    p["gesture_hash"] = _gesture_hash(spec)
    p["renderer"] = RENDERER_VERSION
    return p


def sample_camera(d: _Draw, cam: dict, view: str, body_height: float) -> dict:
    """Camera placement of one video (azimuth, height, horizontal distance, elevation, aim, framing, roll).

    Of height, distance and elevation (seen from the subject's feet) the scene
    gives two per view and the third follows. Draw order: azimuth, jitter,
    height, distance, elevation, look, framing, pan, roll.
    """
    v = cam[view]
    az = d.value(cam["camera_azimuth"])
    jitter = d.value(cam["azimuth_jitter"])
    out = {"camera_azimuth": _r(az + d.rng.uniform(-jitter, jitter), 2)}
    h = d.value(v["camera_height"]) if "camera_height" in v else None
    dist = d.value(v["camera_distance"]) if "camera_distance" in v else None
    el = d.value(v["camera_elevation"]) if "camera_elevation" in v else None
    if dist is None:
        dist = h / np.tan(np.radians(el))
    elif h is None:
        h = dist * np.tan(np.radians(el))
    if el is None:
        el = np.degrees(np.arctan2(h, dist))
    out["camera_height"] = _r(h, 3)
    out["camera_distance"] = _r(dist, 3)
    out["camera_elevation"] = _r(el, 2)
    out["look_height"] = _r(d.value(v["look"]) * body_height * LOOK_SCALE[view], 3)
    out["frame_fraction"] = _r(d.value(v["frame_fraction"]))
    out["pan_x"] = _r(d.value(cam["pan_x"]), 3)
    out["pan_y"] = _r(d.value(cam["pan_y"]), 3)
    out["roll"] = _r(d.value(cam["roll"]), 2)
    return out
