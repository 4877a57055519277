"""Scenes and camera control: defaults reproduce earlier releases, overrides, validation, camera sampling."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from gesturebench.synth.camera import camera_for_video, make_camera
from gesturebench.synth.gestures import load_gestures, parse_gesture
from gesturebench.synth.randomize import AZIMUTHS, PARAM_COLUMNS, sample_params
from gesturebench.synth.scene import (
    SceneError, default_scene, load_scene, parse_value_option, resolve_scene, scene_template,
)

GOLDEN = Path(__file__).parents[1] / "fixtures" / "synth" / "golden_params_4eb0652.json"
SPECS = load_gestures()


def test_default_scenes_reproduce_the_parameters_of_the_release_before_scenes():
    """Every parameter (value and type) of 56 videos sampled by commit 4eb0652's randomize.py."""
    golden = json.loads(GOLDEN.read_text())
    i = 0
    for style in ("default", "target"):
        for view in ("ground", "air"):
            for spec in SPECS:
                for idx in (0, 3):
                    new = sample_params(5, style, view, spec, idx, 64, 16)
                    old = golden["rows"][i]
                    i += 1
                    assert tuple(new) == PARAM_COLUMNS
                    assert {k: new[k] for k in old} == old
                    assert all(type(new[k]) is type(v) for k, v in old.items())
    assert i == len(golden["rows"])


def test_default_scene_renders_the_same_frames_as_before():
    from gesturebench.synth.render import render_clip

    golden = json.loads(GOLDEN.read_text())["render"]
    by_name = {s.name: s for s in SPECS}
    for key, want in golden.items():
        style, view, name = key.split("/")
        clip = render_clip(sample_params(1, style, view, by_name[name], 2, 48, 8), by_name[name])
        assert list(clip.frames.shape) == want["shape"] and clip.fps == want["fps"]
        assert hashlib.sha256(np.ascontiguousarray(clip.joints_2d).tobytes()).hexdigest() == want["joints_2d_sha256"]
        assert hashlib.sha256(clip.frames.tobytes()).hexdigest() == want["frames_sha256"], key


def test_template_is_the_default_scene_and_a_full_copy_changes_nothing(tmp_path):
    text = scene_template("default")
    assert text.startswith("# The default scene")
    (tmp_path / "copy.yaml").write_text(text)
    copy = load_scene(tmp_path / "copy.yaml")
    assert copy.spec == default_scene().spec and copy.name == "copy"
    assert copy.view_hash("ground") == default_scene().view_hash("ground")
    assert default_scene("target").view_hash("ground") != default_scene().view_hash("ground")
    # an empty file is the style's scene too
    (tmp_path / "empty.yaml").write_text("")
    assert load_scene(tmp_path / "empty.yaml", "target").spec == default_scene("target").spec


def test_partial_scene_changes_only_its_keys_and_keeps_the_draw_order(tmp_path):
    f = tmp_path / "lefties.yaml"
    f.write_text("performance:\n  mirror: 1.0\nclothing:\n  shirt: '#ff0000'\n")
    sc = load_scene(f)
    base = sample_params(0, "default", "ground", SPECS[0], 1, 64, 16)
    new = sample_params(0, "default", "ground", SPECS[0], 1, 64, 16, scene=sc)
    assert new["mirror"] is True and new["shirt"] == "#ff0000"
    # a fixed shirt draws nothing, so what follows it in the draw order moves; what precedes it does not
    before_shirt = PARAM_COLUMNS[:PARAM_COLUMNS.index("shirt")]
    assert {k: new[k] for k in before_shirt if k not in ("mirror",)} == {k: base[k] for k in before_shirt if k != "mirror"}
    assert new["scene"] == "lefties" and new["scene_hash"] != base["scene_hash"]
    # a share keeps drawing, so --mirror-share 0 changes mirroring and nothing else
    none = sample_params(0, "default", "ground", SPECS[0], 1, 64, 16, scene=default_scene().with_camera(mirror_share=0))
    assert {k: v for k, v in none.items() if k not in ("mirror", "scene_hash")} == \
        {k: v for k, v in base.items() if k not in ("mirror", "scene_hash")}


@pytest.mark.parametrize(
    "text, message",
    [
        ("camera:\n  ground:\n    camera_distance: far\n",
         "s.yaml:3: camera.ground.camera_distance must be a number, [low, high], {normal: [mean, sd]} or "
         "{choice: [...]} within [0.5, 500] m; got 'far'"),
        ("lighting:\n  light_intensty: [0.5, 1]\n",
         "s.yaml:2: unknown key 'lighting.light_intensty'; allowed: light_azimuth, light_elevation, light_intensity, ambient"),
        ("weather: rain\n",
         "s.yaml:1: unknown key 'weather'; allowed: performance, body, clothing, background, lighting, camera, degradation"),
        ("background:\n  clutter: [0, 2.5]\n",
         "s.yaml:2: background.clutter must be an integer, [low, high] or {choice: [...]} within [0, 50]; got [0, 2.5]"),
        ("body:\n  height: [1.9, 1.6]\n",
         "s.yaml:2: body.height must be a number, [low, high], {normal: [mean, sd]} or {choice: [...]} within "
         "[0.5, 2.5] m; got [1.9, 1.6]"),
        ("performance:\n  mirror: 1.5\n", "s.yaml:2: performance.mirror must be a share from 0 to 1 or true/false; got 1.5"),
        ("clothing:\n  headgear: turban\n",
         "s.yaml:2: clothing.headgear must be one of hair, cap, helmet or {choice: [...], weights: [...]} of them; "
         "got 'turban'"),
        ("clothing:\n  glove: {h: [0, 1], s: [0, 2], v: 0.5}\n",
         "s.yaml:2: clothing.glove must be \"#rrggbb\", {h: [lo, hi], s: [lo, hi], v: [lo, hi]} (h within [0, 2], "
         "s and v within [0, 1]), {lighten: KEY, by: [lo, hi]} or {same_as: KEY, share: P, otherwise: COLOUR} with "
         "KEY an earlier colour (skin, hair, shirt, shirt_front, trousers, boots); got {'h': [0, 1], 's': [0, 2], 'v': 0.5}"),
        ("camera:\n  ground:\n    camera_height: 2.0\n    camera_elevation: 10\n",
         "s.yaml:2: camera.ground must give exactly two of camera_height, camera_distance, camera_elevation (the "
         "third follows; set one to null); got camera_height, camera_distance, camera_elevation"),
        ("camera: [1, 2]\n", "s.yaml:1: camera must be a mapping of camera_azimuth, azimuth_jitter, pan_x, pan_y, "
         "roll, ground, air; got [1, 2]"),
        ("camera: {ground: {\n", None),
    ],
)
def test_scene_errors_name_file_line_key_and_allowed(tmp_path, text, message):
    f = tmp_path / "s.yaml"
    f.write_text(text)
    with pytest.raises(SceneError) as err:
        load_scene(f)
    if message is None:
        assert str(err.value).startswith(f"{f}:2: not valid YAML")
    else:
        assert str(err.value) == f"{tmp_path}/{message}"


def test_elevation_in_a_file_lets_the_height_follow(tmp_path):
    f = tmp_path / "low.yaml"
    f.write_text("camera:\n  ground:\n    camera_elevation: 5\n    camera_distance: 4\n")
    p = sample_params(0, "default", "ground", SPECS[1], 0, 64, 16, scene=load_scene(f))
    assert p["camera_elevation"] == 5.0 and p["camera_distance"] == 4.0
    assert p["camera_height"] == pytest.approx(4 * np.tan(np.radians(5)), abs=1e-3)


@pytest.mark.parametrize(
    "text, spec",
    [("5", {"fixed": 5.0}), ("0,30,330", {"choice": [0.0, 30.0, 330.0]}), ("4:6.5", {"uniform": [4.0, 6.5]}),
     ("-30:30:15", {"choice": [-30.0, -15.0, 0.0, 15.0, 30.0]}), ("0:1:0.25", {"choice": [0.0, 0.25, 0.5, 0.75, 1.0]})],
)
def test_value_options(text, spec):
    assert parse_value_option("--azimuths", text)[0] == spec


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"azimuths": "0:30:0"}, "--azimuths step must be > 0; got '0:30:0'"),
        ({"azimuths": "30:0"}, "--azimuths range must have low <= high; got '30:0'"),
        ({"azimuths": "front"}, "--azimuths must be a value (5), a list (0,30,330), a range low:high (4:6.5, drawn "
         "uniformly) or low:high:step (-30:30:15); got 'front'"),
        ({"elevations": "0,45"}, "--elevations values must be within [1, 85] degrees; got 0"),
        ({"distance": "0.1"}, "--distance values must be within [0.5, 500] m; got 0.1"),
        ({"mirror_share": 1.5}, "--mirror-share must be a number from 0 to 1; got 1.5"),
    ],
)
def test_camera_option_errors(kwargs, message):
    with pytest.raises(SceneError) as err:
        default_scene().with_camera(**kwargs)
    assert str(err.value) == message


def _cams(view: str, n: int = 40, **camera) -> list[dict]:
    sc = resolve_scene("default", None, **camera)
    return [sample_params(3, "default", view, SPECS[i % 7], i, 64, 16, scene=sc) for i in range(n)]


def test_default_azimuths_are_rocog_and_options_replace_them():
    base = {min(AZIMUTHS, key=lambda a: abs(a - p["camera_azimuth"])) for p in _cams("ground")}
    assert base == set(AZIMUTHS) and all(
        abs(p["camera_azimuth"] - min(AZIMUTHS, key=lambda a: abs(a - p["camera_azimuth"]))) <= 4 for p in _cams("ground"))
    front = _cams("ground", azimuths="0")
    assert all(-4 <= p["camera_azimuth"] <= 4 for p in front)
    stepped = {round(p["camera_azimuth"] / 15) * 15 for p in _cams("ground", azimuths="-30:30:15")}
    assert stepped == {-30, -15, 0, 15, 30}


def test_elevations_and_distance_place_the_camera():
    for view in ("ground", "air"):
        cams = _cams(view, elevations="10:20", distance="5")
        for p in cams:
            assert p["camera_distance"] == 5.0 and 10 <= p["camera_elevation"] <= 20
            assert p["camera_height"] == pytest.approx(5 * np.tan(np.radians(p["camera_elevation"])), abs=2e-3)
    # default ground: height about 1.75 m, elevation follows from height and distance
    for p in _cams("ground"):
        assert p["camera_elevation"] == pytest.approx(np.degrees(np.arctan2(p["camera_height"], p["camera_distance"])),
                                                      abs=0.02)
    # default air: 35-70 degrees; --distance keeps the elevation and lets the height follow
    air = _cams("air", distance="10")
    assert all(35 <= p["camera_elevation"] <= 70 and p["camera_distance"] == 10.0 for p in air)


def test_scene_hash_of_a_view_ignores_the_other_views_camera():
    sc = default_scene().with_camera(elevations="40")
    assert sc.view_hash("ground") != default_scene().view_hash("ground")
    from gesturebench.synth.scene import Scene

    spec = json.loads(json.dumps(default_scene().spec))
    spec["camera"]["air"]["frame_fraction"] = {"fixed": 0.5}
    only_air = Scene("x", "default", spec, default_scene().source)
    assert only_air.view_hash("ground") == default_scene().view_hash("ground")
    assert only_air.view_hash("air") != default_scene().view_hash("air")


def test_camera_for_video_is_the_renderers_camera():
    p, cam = camera_for_video(7, "default", "ground", SPECS[2], 4, size=96, frames=16,
                              scene=default_scene().with_camera(azimuths="90"))
    assert p == sample_params(7, "default", "ground", SPECS[2], 4, 96, 16, scene=default_scene().with_camera(azimuths="90"))
    az = np.radians(p["camera_azimuth"])
    np.testing.assert_allclose(cam.centre, [p["camera_distance"] * np.sin(az), p["camera_height"],
                                            p["camera_distance"] * np.cos(az)])
    assert cam.rot.tolist() == make_camera(p, 96).rot.tolist()
    # the aim point projects onto the image centre, shifted by the sampled pan
    target = np.array([p["pan_x"] * np.cos(az), p["look_height"], -p["pan_x"] * np.sin(az)])
    uv, _ = cam.project(target[None])
    np.testing.assert_allclose(uv[0], [48, 48 + p["pan_y"] * 96], atol=1e-6)


def test_repeats_are_a_per_gesture_range_without_a_cap():
    clap = parse_gesture({"name": "Clap", "label": 0, "repeats": [4, 6], "durations": {"cycle": 0.4},
                          "cycle": [{"t": 0.0, "pose": {"r_elbow": {"flex": 90}}},
                                    {"t": 0.5, "pose": {"r_elbow": {"flex": 60}}}]})
    reps = {sample_params(0, "default", "ground", clap, i, 64, 16)["repeats"] for i in range(40)}
    assert reps == {4, 5, 6}


def test_the_docs_scene_example_loads(tmp_path):
    import re

    text = (Path(__file__).parents[2] / "docs" / "synth.md").read_text()
    block = re.search(r"```yaml\n(# calm\.yaml\n.*?)```", text, re.S).group(1)
    (tmp_path / "calm.yaml").write_text(block)
    sc = load_scene(tmp_path / "calm.yaml")
    assert sc.spec["camera"]["camera_azimuth"] == {"choice": [0.0, 330.0, 30.0]}
    assert sc.spec["degradation"]["noise_sigma"] == {"fixed": 0.0}
    assert sc.spec["camera"]["air"] == default_scene().spec["camera"]["air"]
