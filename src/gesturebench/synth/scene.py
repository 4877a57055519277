"""Scenes: the distributions of everything ``synth`` randomises, as validated YAML.

A scene file names, per parameter-table column, how that value is drawn
(fixed, uniform, normal, choice; colours in HSV ranges). The built-in scenes
``scenes/default.yaml`` and ``scenes/target.yaml`` hold today's values for the
two styles; a user's ``--scene FILE`` is a partial override of the style's
scene, so it lists only what it changes. ``--azimuths``, ``--elevations``,
``--distance`` and ``--mirror-share`` are overrides of the same scene
(:meth:`Scene.with_camera`).

Values are normalised into small tagged dicts (``{"uniform": [lo, hi]}``...)
which :mod:`.randomize` draws from in a fixed order, and which are hashed
(:meth:`Scene.view_hash`) into every video's identity.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .yamllines import line_of, load_yaml_with_lines, yaml_error_line

SCENE_VIEWS = ("ground", "air")
HEADGEAR = ("hair", "cap", "helmet")
#: the three camera placement keys of a view; exactly two are given, the third follows
PLACEMENT = ("camera_height", "camera_distance", "camera_elevation")

# kind, low, high, unit -- the allowed range of every value a scene may give
_NUM, _INT, _SHARE, _COLOUR, _HEADGEAR = "number", "integer", "share", "colour", "headgear"
_VIEW_SCHEMA: dict[str, tuple] = {
    "camera_height": (_NUM, 0.1, 500.0, "m"), "camera_distance": (_NUM, 0.5, 500.0, "m"),
    "camera_elevation": (_NUM, 1.0, 85.0, "degrees"), "look": (_NUM, 0.1, 3.0, ""),
    "frame_fraction": (_NUM, 0.05, 1.5, ""), "shake_px": (_NUM, 0.0, 50.0, "px"),
}
SCHEMA: dict[str, dict[str, Any]] = {
    "performance": {
        "speed": (_NUM, 0.1, 5.0, ""), "amplitude": (_NUM, 0.0, 2.0, ""), "timing_jitter": (_NUM, 0.0, 0.5, ""),
        "angle_jitter": (_NUM, 0.0, 30.0, "degrees"), "idle_before": (_NUM, 0.0, 10.0, "s"),
        "idle_after": (_NUM, 0.0, 10.0, "s"), "mirror": (_SHARE,), "sway": (_NUM, 0.0, 5.0, ""),
    },
    "body": {
        "height": (_NUM, 0.5, 2.5, "m"), "girth": (_NUM, 0.5, 2.5, ""), "shoulder_width": (_NUM, 0.5, 2.0, ""),
        "skin": (_COLOUR,),
    },
    "clothing": {
        "headgear": (_HEADGEAR,), **{k: (_COLOUR,) for k in (
            "hair", "shirt", "shirt_front", "trousers", "boots", "glove", "armband", "pack")},
        "long_sleeves": (_SHARE,), "has_pack": (_SHARE,),
    },
    "background": {
        **{k: (_COLOUR,) for k in ("ground_a", "ground_b", "sky_top", "sky_horizon", "hill", "clutter_a", "clutter_b")},
        "texture_scale": (_NUM, 0.1, 10.0, ""), "cloudiness": (_NUM, 0.0, 1.0, ""), "hills": (_NUM, 0.0, 5.0, ""),
        "fog_distance": (_NUM, 1.0, 10000.0, "m"), "clutter": (_INT, 0, 50, ""),
    },
    "lighting": {
        "light_azimuth": (_NUM, -360.0, 720.0, "degrees"), "light_elevation": (_NUM, 0.0, 90.0, "degrees"),
        "light_intensity": (_NUM, 0.0, 2.0, ""), "ambient": (_NUM, 0.0, 1.5, ""),
    },
    "camera": {
        "camera_azimuth": (_NUM, -360.0, 720.0, "degrees"), "azimuth_jitter": (_NUM, 0.0, 180.0, "degrees"),
        "pan_x": (_NUM, -1.0, 1.0, ""), "pan_y": (_NUM, -1.0, 1.0, ""), "roll": (_NUM, -45.0, 45.0, "degrees"),
        "ground": _VIEW_SCHEMA, "air": _VIEW_SCHEMA,
    },
    "degradation": {
        "shake_hz": (_NUM, 0.0, 10.0, "Hz"), "roll_jitter": (_NUM, 0.0, 30.0, "degrees"),
        "motion_blur": (_NUM, 0.0, 0.95, ""), "defocus": (_NUM, 0.0, 20.0, "px"),
        "noise_sigma": (_NUM, 0.0, 100.0, ""), "vignette": (_NUM, 0.0, 1.0, ""), "crf": (_INT, 0, 51, ""),
    },
}
#: colour keys in the order they are drawn; a colour may refer (lighten, same_as) to an earlier one
COLOUR_ORDER = ("skin", "hair", "shirt", "shirt_front", "trousers", "boots", "glove", "armband", "pack",
                "ground_a", "ground_b", "sky_top", "sky_horizon", "hill", "clutter_a", "clutter_b")


class SceneError(ConfigError):
    """A scene file or camera option is outside the format; names file, line, key and value."""


@dataclass(frozen=True)
class Scene:
    """A validated scene: ``spec`` (normalised, drawn from) and ``source`` (as written, merged)."""

    name: str
    style: str
    spec: dict
    source: dict
    _hashes: dict = field(default_factory=dict, compare=False, repr=False)  # view -> hash, memoised

    def view_hash(self, view: str) -> str:
        """12 hex digits over what videos of ``view`` are drawn from (other views' cameras left out)."""
        if view not in self._hashes:
            spec = dict(self.spec)
            spec["camera"] = {k: v for k, v in spec["camera"].items() if k not in SCENE_VIEWS or k == view}
            self._hashes[view] = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
        return self._hashes[view]

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.source, sort_keys=False, default_flow_style=None, width=120)

    def with_camera(self, azimuths: Any = None, elevations: Any = None, distance: Any = None,
                    mirror_share: float | None = None) -> Scene:
        """This scene with the ``synth`` camera options applied (text as on the command line, or specs)."""
        if azimuths is None and elevations is None and distance is None and mirror_share is None:
            return self
        spec, source = copy.deepcopy(self.spec), copy.deepcopy(self.source)
        if azimuths is not None:
            spec["camera"]["camera_azimuth"], raw = _option_spec("--azimuths", azimuths, "camera.camera_azimuth")
            source["camera"]["camera_azimuth"] = raw
        for option, key, value in (("--elevations", "camera_elevation", elevations),
                                   ("--distance", "camera_distance", distance)):
            if value is None:
                continue
            norm, raw = _option_spec(option, value, f"camera.ground.{key}")
            for view in SCENE_VIEWS:
                spec["camera"][view][key], source["camera"][view][key] = norm, raw
                if all(k in spec["camera"][view] for k in PLACEMENT):  # the height follows
                    del spec["camera"][view]["camera_height"]
                    source["camera"][view].pop("camera_height", None)
        if mirror_share is not None:
            if isinstance(mirror_share, bool) or not isinstance(mirror_share, (int, float)) or not 0 <= mirror_share <= 1:
                raise SceneError(f"--mirror-share must be a number from 0 to 1; got {mirror_share!r}")
            spec["performance"]["mirror"] = {"share": float(mirror_share)}
            source["performance"]["mirror"] = float(mirror_share)
        return Scene(self.name, self.style, spec, source)


# ------------------------------------------------------------------ loading --

def builtin_scene_path(style: str) -> Path:
    return Path(str(resources.files("gesturebench.synth") / "scenes" / f"{style}.yaml"))


def scene_template(style: str = "default") -> str:
    """The built-in scene file of ``style``, comments included (what ``--scene-template`` prints)."""
    from .randomize import STYLES
    from ..errors import check_choice

    check_choice("style", style, STYLES)
    return builtin_scene_path(style).read_text(encoding="utf-8")


_BUILTIN: dict[str, Scene] = {}


def default_scene(style: str = "default") -> Scene:
    if style not in _BUILTIN:
        path = builtin_scene_path(style)
        raw = load_yaml_with_lines(path.read_text(encoding="utf-8"))
        spec, source = _validate(raw, str(path), base=None)
        _BUILTIN[style] = Scene(style, style, spec, source)
    return _BUILTIN[style]


def load_scene(path: str | Path | None = None, style: str = "default") -> Scene:
    """The style's built-in scene, overridden by the YAML file ``path`` where given."""
    import yaml

    base = default_scene(style)
    if path is None:
        return base
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SceneError(f"{path}: cannot read scene file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SceneError(f"{path}: not a UTF-8 text file") from None
    try:
        raw = load_yaml_with_lines(text)
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        raise SceneError(f"{path}{f':{line}' if line else ''}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if raw is None:
        raw = {}
    spec, source = _validate(raw, str(path), base=base)
    return Scene(path.stem, style, spec, source)


def resolve_scene(style: str = "default", scene: Scene | str | Path | None = None, **camera: Any) -> Scene:
    """A :class:`Scene` from a Scene, a file or nothing (the style's), with camera options applied."""
    if scene is None or isinstance(scene, (str, Path)):
        scene = load_scene(scene, style)
    elif not isinstance(scene, Scene):
        raise SceneError(f"scene must be a Scene or a YAML file path; got {type(scene).__name__}")
    elif scene.style != style:
        raise SceneError(f"scene {scene.name!r} was made for style {scene.style!r}, not {style!r}")
    return scene.with_camera(**camera)


# --------------------------------------------------------------- validation --

def _fail(where: str, container: Any, key: Any, message: str) -> SceneError:
    line = line_of(container, key)
    return SceneError(f"{where}{f':{line}' if line else ''}: {message}")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _number_spec(where, container, key, path, value, kind, lo, hi, unit) -> dict:
    """Normalise one number/integer value spec and check it lies within [lo, hi]."""
    want_int = kind == _INT
    unit = f" {unit}" if unit else ""
    allowed = (f"a{'n integer' if want_int else ' number'}, [low, high]{'' if want_int else ', {normal: [mean, sd]}'}"
               f" or {{choice: [...]}} within [{_fmt(lo)}, {_fmt(hi)}]{unit}")

    def bad() -> SceneError:
        return _fail(where, container, key, f"{path} must be {allowed}; got {value!r}")

    def ok(x: Any) -> bool:
        return _is_num(x) and (not want_int or isinstance(x, int)) and lo <= x <= hi

    if _is_num(value):
        if not ok(value):
            raise bad()
        return {"fixed": value if want_int else float(value)}
    if isinstance(value, list):
        if len(value) != 2 or not all(ok(x) for x in value) or value[0] > value[1]:
            raise bad()
        return {"uniform": [v if want_int else float(v) for v in value]}
    if isinstance(value, dict) and len(value) == 1 and "normal" in value and not want_int:
        ms = value["normal"]
        if not (isinstance(ms, list) and len(ms) == 2 and ok(ms[0]) and _is_num(ms[1]) and ms[1] >= 0):
            raise bad()
        return {"normal": [float(ms[0]), float(ms[1])]}
    if isinstance(value, dict) and len(value) == 1 and "choice" in value:
        ch = value["choice"]
        if not (isinstance(ch, list) and ch and all(ok(x) for x in ch)):
            raise bad()
        return {"choice": [x if want_int else float(x) for x in ch]}
    raise bad()


def _share_spec(where, container, key, path, value) -> dict:
    if isinstance(value, bool):
        return {"fixed": value}
    if _is_num(value) and 0 <= value <= 1:
        return {"share": float(value)}
    raise _fail(where, container, key, f"{path} must be a share from 0 to 1 or true/false; got {value!r}")


_HEX = re.compile(r"#[0-9a-fA-F]{6}")


def _hsv_part(x: Any, hi: float) -> list[float] | None:
    if _is_num(x) and 0 <= x <= hi:
        return [float(x), float(x)]
    if isinstance(x, list) and len(x) == 2 and all(_is_num(v) and 0 <= v <= hi for v in x) and x[0] <= x[1]:
        return [float(x[0]), float(x[1])]
    return None


def _colour_spec(where, container, key, path, value, earlier: tuple[str, ...], nested: bool = False) -> dict:
    refs = ", ".join(earlier) or "none"
    allowed = ('"#rrggbb", {h: [lo, hi], s: [lo, hi], v: [lo, hi]} (h within [0, 2], s and v within [0, 1])'
               + ("" if nested else f", {{lighten: KEY, by: [lo, hi]}} or {{same_as: KEY, share: P, otherwise: COLOUR}}"
                  f" with KEY an earlier colour ({refs})"))
    bad = _fail(where, container, key, f"{path} must be {allowed}; got {value!r}")
    if isinstance(value, str):
        if not _HEX.fullmatch(value):
            raise bad
        return {"hex": value.lower()}
    if not isinstance(value, dict):
        raise bad
    if set(value) == {"h", "s", "v"}:
        parts = [_hsv_part(value["h"], 2.0), _hsv_part(value["s"], 1.0), _hsv_part(value["v"], 1.0)]
        if any(p is None for p in parts):
            raise bad
        return {"hsv": parts}
    if nested:
        raise bad
    if set(value) == {"lighten", "by"} and value["lighten"] in earlier:
        by = _number_spec(where, container, key, f"{path}.by", value["by"], _NUM, 0.0, 1.0, "")
        return {"lighten": value["lighten"], "by": by}
    if set(value) == {"same_as", "share", "otherwise"} and value["same_as"] in earlier:
        if not (_is_num(value["share"]) and 0 <= value["share"] <= 1):
            raise _fail(where, container, key, f"{path}.share must be a number from 0 to 1; got {value['share']!r}")
        other = _colour_spec(where, container, key, f"{path}.otherwise", value["otherwise"], earlier, nested=True)
        return {"same_as": value["same_as"], "share": float(value["share"]), "otherwise": other}
    raise bad


def _headgear_spec(where, container, key, path, value) -> dict:
    allowed = f"one of {', '.join(HEADGEAR)} or {{choice: [...], weights: [...]}} of them"
    if isinstance(value, str) and value in HEADGEAR:
        return {"fixed": value}
    if isinstance(value, dict) and set(value) <= {"choice", "weights"} and "choice" in value:
        ch = value["choice"]
        if isinstance(ch, list) and ch and all(isinstance(c, str) and c in HEADGEAR for c in ch):
            w = value.get("weights", [1.0] * len(ch))
            if (isinstance(w, list) and len(w) == len(ch) and all(_is_num(x) and x >= 0 for x in w) and sum(w) > 0):
                total = float(sum(w))
                return {"choice": list(ch), "weights": [float(x) / total for x in w]}
    raise _fail(where, container, key, f"{path} must be {allowed}; got {value!r}")


def _leaf(where, container, key, path, value, rule, earlier) -> dict:
    kind = rule[0]
    if kind in (_NUM, _INT):
        return _number_spec(where, container, key, path, value, *rule)
    if kind == _SHARE:
        return _share_spec(where, container, key, path, value)
    if kind == _COLOUR:
        return _colour_spec(where, container, key, path, value, earlier)
    return _headgear_spec(where, container, key, path, value)


def _merge(raw: Any, base: dict | None, where: str) -> dict:
    """The user's mapping laid over the base scene's (as written), checking every key exists."""
    if not isinstance(raw, dict):
        raise SceneError(f"{where}: a scene must be a mapping of sections ({', '.join(SCHEMA)}); "
                         f"got {type(raw).__name__}")
    merged = copy.deepcopy(base) if base is not None else {}

    def walk(src: dict, dst: dict, schema: dict, path: str) -> None:
        for k, v in src.items():
            full = f"{path}.{k}" if path else str(k)
            if k not in schema:
                raise _fail(where, src, k, f"unknown key {full!r}; allowed: {', '.join(schema)}")
            if isinstance(schema[k], dict):
                if not isinstance(v, dict):
                    raise _fail(where, src, k, f"{full} must be a mapping of {', '.join(schema[k])}; got {v!r}")
                walk(v, dst.setdefault(k, {}), schema[k], full)
            elif v is None and k in PLACEMENT:
                dst.pop(k, None)  # `camera_height: null`: let it follow from the other two
            else:
                dst[k] = v

    walk(raw, merged, SCHEMA, "")
    for view in SCENE_VIEWS:  # the user set distance or elevation where the base had height: the height follows
        mine = raw.get("camera", {}).get(view, {}) if isinstance(raw.get("camera"), dict) else {}
        theirs = merged.get("camera", {}).get(view, {})
        if all(k in theirs for k in PLACEMENT) and isinstance(mine, dict) and "camera_height" not in mine:
            del theirs["camera_height"]
    return merged


def _validate(raw: Any, where: str, base: Scene | None) -> tuple[dict, dict]:
    """(normalised spec, merged source) of a scene document; every key checked."""
    source = _merge(raw, base.source if base is not None else None, where)
    spec: dict = {}
    colours_seen: list[str] = []

    def locate(path: list[str]) -> tuple[Any, Any]:
        """The user's container and key for ``path`` (for the line number), else None."""
        node = raw
        for k in path[:-1]:
            if not isinstance(node, dict) or k not in node:
                return None, None
            node = node[k]
        return (node, path[-1]) if isinstance(node, dict) and path[-1] in node else (None, None)

    for section, rules in SCHEMA.items():
        spec[section] = {}
        for key, rule in rules.items():
            if isinstance(rule, dict):  # a camera view
                view = source.get(section, {}).get(key, {})
                spec[section][key] = {}
                for vk, vrule in rule.items():
                    path = [section, key, vk]
                    if vk not in view:
                        if vk in PLACEMENT:
                            continue
                        raise SceneError(f"{where}: missing key {'.'.join(path)}")
                    c, ck = locate(path)
                    spec[section][key][vk] = _leaf(where, c, ck, ".".join(path), view[vk], vrule, ())
                given = [k for k in PLACEMENT if k in spec[section][key]]
                if len(given) != 2:
                    c, ck = locate([section, key])
                    raise _fail(where, c, ck, f"{section}.{key} must give exactly two of {', '.join(PLACEMENT)} "
                                f"(the third follows; set one to null); got {', '.join(given) or 'none'}")
                continue
            if key not in source.get(section, {}):
                raise SceneError(f"{where}: missing key {section}.{key}")
            c, ck = locate([section, key])
            spec[section][key] = _leaf(where, c, ck, f"{section}.{key}", source[section][key], rule,
                                       tuple(colours_seen))
            if rule[0] == _COLOUR:
                colours_seen.append(key)
    return spec, _plain(source)


def _plain(x: Any) -> Any:
    """Plain dicts and lists (no line-number subclasses), for YAML output and copying."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


# ------------------------------------------------------------ camera options --

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"


def parse_value_option(option: str, text: Any) -> tuple[dict, Any]:
    """``"0,30,330"`` (choice), ``"-30:30:15"`` (choice of a stepped range, ends included),
    ``"4:6.5"`` (uniform) or ``"5"`` (fixed) -> (normalised spec before range checks, as written)."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return {"fixed": float(text)}, float(text)
    s = str(text).strip()
    usage = (f"{option} must be a value (5), a list (0,30,330), a range low:high (4:6.5, drawn uniformly) "
             f"or low:high:step (-30:30:15); got {text!r}")
    if re.fullmatch(_NUMBER, s):
        return {"fixed": float(s)}, float(s)
    if "," in s:
        parts = [p.strip() for p in s.split(",")]
        if not all(re.fullmatch(_NUMBER, p) for p in parts):
            raise SceneError(usage)
        vals = [float(p) for p in parts]
        return {"choice": vals}, {"choice": vals}
    parts = s.split(":")
    if len(parts) in (2, 3) and all(re.fullmatch(_NUMBER, p.strip()) for p in parts):
        lo, hi = float(parts[0]), float(parts[1])
        if lo > hi:
            raise SceneError(f"{option} range must have low <= high; got {text!r}")
        if len(parts) == 2:
            return {"uniform": [lo, hi]}, [lo, hi]
        step = float(parts[2])
        if step <= 0:
            raise SceneError(f"{option} step must be > 0; got {text!r}")
        n = int(math.floor((hi - lo) / step + 1e-9)) + 1
        if n > 3600:
            raise SceneError(f"{option} lists {n} values; at most 3600 are allowed; got {text!r}")
        vals = [round(lo + i * step, 6) for i in range(n)]
        return {"choice": vals}, {"choice": vals}
    raise SceneError(usage)


def _option_spec(option: str, value: Any, schema_path: str) -> tuple[dict, Any]:
    """Parse and range-check a camera option against its scene key's limits."""
    section, *rest = schema_path.split(".")
    rule = SCHEMA[section][rest[0]] if len(rest) == 1 else SCHEMA[section][rest[0]][rest[1]]
    _kind, lo, hi, unit = rule
    norm, raw = parse_value_option(option, value)
    values = norm.get("choice") or norm.get("uniform") or [norm["fixed"]]
    for v in values:
        if not lo <= v <= hi:
            raise SceneError(f"{option} values must be within [{_fmt(lo)}, {_fmt(hi)}] {unit}; got {_fmt(v)}")
    return norm, raw
