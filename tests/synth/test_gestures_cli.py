"""`gestures init/check`, `synth --scene-template` and the camera options, `contact-sheet --views/--azimuths`."""

from __future__ import annotations

import csv

import cv2
import yaml

from gesturebench.cli import main
from gesturebench.synth.gestures import builtin_dir


def test_gestures_init_copies_the_builtins_and_refuses_to_overwrite(tmp_path, capsys):
    g = tmp_path / "g"
    assert main(["gestures", "init", str(g)]) == 0
    names = sorted(p.name for p in g.glob("*.yaml"))
    assert names == sorted(p.name for p in builtin_dir().glob("*.yaml")) and len(names) == 7
    assert (g / "halt.yaml").read_text() == (builtin_dir() / "halt.yaml").read_text()
    capsys.readouterr()
    assert main(["gestures", "init", str(g)]) == 1
    assert capsys.readouterr().err.strip() == (f"error: {g / 'advance.yaml'} already exists (7 of the 7 built-in "
                                               "files do); use --force to overwrite them or choose another folder")
    assert main(["gestures", "init", str(g), "--force"]) == 0


def test_gestures_check_lists_every_problem_with_file_and_line(tmp_path, capsys):
    g = tmp_path / "g"
    assert main(["gestures", "init", str(g)]) == 0
    adv = g / "advance.yaml"
    lines = adv.read_text().splitlines()
    bad_line = next(i for i, t in enumerate(lines, 1) if "elev: 150, azim: 178" in t)
    adv.write_text(adv.read_text().replace("r_elbow: {flex: 12}", "r_elbow: {flex: 400}"))
    (g / "rally.yaml").write_text((g / "rally.yaml").read_text().replace("repeats: [1, 4]", "repeats: [0, 4]"))
    (g / "halt.yaml").write_text((g / "halt.yaml").read_text().replace("label: 4", "label: 5"))
    (g / "broken.yaml").write_text("name: X\nlabel: 7\ncycle: [{t: 0, pose: {}}\n")
    capsys.readouterr()
    assert main(["gestures", "check", str(g)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"error: {adv}:{bad_line}: cycle[1].pose.r_elbow.flex must be within [-90, 160] degrees; got 400"
    assert err[1].startswith(f"error: {g / 'broken.yaml'}:4: not valid YAML")
    halt_label = next(i for i, t in enumerate((g / "halt.yaml").read_text().splitlines(), 1) if t.startswith("label:"))
    assert err[2] == (f"error: {g / 'rally.yaml'}:7: repeats must be [min, max] integers with 1 <= min <= max <= 20; "
                      "got [0, 4]")
    assert err[3] == (f"error: {g / 'halt.yaml'}:{halt_label}: label 5 is also used by {g / 'follow_me.yaml'}; "
                      "labels must be unique")
    assert err[4] == f"error: {g}: 4 problems in 8 gesture files"
    assert not (g / "preview.png").exists()


def test_gestures_check_renders_a_preview_of_a_good_folder(tmp_path, capsys):
    g = tmp_path / "g"
    assert main(["gestures", "init", str(g)]) == 0
    (g / "rally.yaml").write_text((g / "rally.yaml").read_text().replace("repeats: [1, 4]", "repeats: [4, 6]"))
    capsys.readouterr()
    assert main(["gestures", "check", str(g), "--size", "32", "--azimuths", "0,330"]) == 0
    out = capsys.readouterr().out
    assert "7 gestures OK" in out and "2 Rally (repeats 4-6)" in out
    img = cv2.imread(str(g / "preview.png"))
    label_h = 16
    assert img.shape == (label_h + 2 * (32 + label_h + 4), 7 * (32 + 4), 3)  # title + a row per azimuth


def test_scene_template_is_printed_and_is_a_valid_scene(tmp_path, capsys):
    assert main(["synth", "--scene-template"]) == 0
    text = capsys.readouterr().out
    assert yaml.safe_load(text)["camera"]["camera_azimuth"] == {"choice": [30, 90, 150, 210, 270, 330]}
    assert main(["synth", "--scene-template", "--style", "target"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["clothing"]["headgear"] == "helmet"
    assert main(["synth", "--per-class", "1"]) == 1
    assert capsys.readouterr().err.strip() == "error: missing option --out (the output folder)"


def test_synth_camera_options_reach_the_parameter_table(tmp_path, capsys):
    out = tmp_path / "ds"
    scene = tmp_path / "calm.yaml"
    scene.write_text("degradation:\n  noise_sigma: 0\n  motion_blur: 0\n")
    rc = main(["synth", "--out", str(out), "--per-class", "2", "--size", "32", "--frames", "8", "--splits", "train=1",
               "--azimuths", "0", "--elevations", "10,20", "--distance", "3:4", "--mirror-share", "0",
               "--scene", str(scene)])
    assert rc == 0, capsys.readouterr().err
    with open(out / "params" / "syn_ground.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 14
    for r in rows:
        assert -4 <= float(r["camera_azimuth"]) <= 4 and r["camera_elevation"] in ("10.0", "20.0")
        assert 3 <= float(r["camera_distance"]) <= 4 and r["mirror"] == "False"
        assert r["noise_sigma"] == "0.0" and r["motion_blur"] == "0.0" and r["scene"] == "calm"
    saved = yaml.safe_load((out / "params" / "scenes" / f"{rows[0]['scene_hash']}.yaml").read_text())
    assert saved["camera"]["camera_azimuth"] == 0.0 and saved["camera"]["ground"]["camera_elevation"] == {"choice": [10.0, 20.0]}
    assert "camera_height" not in saved["camera"]["ground"]
    capsys.readouterr()
    assert main(["synth", "--out", str(out), "--azimuths", "0:90:-5"]) == 1
    assert capsys.readouterr().err.strip() == "error: --azimuths step must be > 0; got '0:90:-5'"


def test_contact_sheet_views_azimuths_and_scene(tmp_path, capsys):
    png = tmp_path / "sheet.png"
    scene = tmp_path / "red.yaml"
    scene.write_text("clothing:\n  shirt: '#ff0000'\n")
    assert main(["contact-sheet", "--out", str(png), "--size", "32", "--views", "air", "--azimuths", "-90:90:90",
                 "--scene", str(scene)]) == 0
    img = cv2.imread(str(png))
    assert img.shape == (16 + 3 * (32 + 16 + 4), 7 * 36, 3)
    assert main(["contact-sheet", "--out", str(png), "--views", "side"]) == 1
    assert capsys.readouterr().err.strip() == "error: view must be one of ground, air; got 'side'"
