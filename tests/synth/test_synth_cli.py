"""`gesturebench synth` and `gesturebench contact-sheet` commands."""

from __future__ import annotations

import cv2
import pytest

from gesturebench.cli import main


def test_synth_command_writes_dataset_and_summary(tmp_path, capsys):
    out = tmp_path / "ds"
    rc = main(["synth", "--out", str(out), "--per-class", "1", "--views", "air", "--seed", "2",
               "--size", "32", "--frames", "8", "--splits", "train=1"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "MoveInReverse" in text and "air/train" in text and "7 rendered, 0 kept" in text
    assert len((out / "annotations" / "syn_air_train.txt").read_text().splitlines()) == 7
    rc = main(["synth", "--out", str(out), "--per-class", "1", "--views", "air", "--seed", "2",
               "--size", "32", "--frames", "8", "--splits", "train=1"])
    assert rc == 0 and "0 rendered, 7 kept" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--per-class", "0"], "error: per-class must be an integer >= 1; got 0"),
        (["--views", "ground,top"], "error: view must be one of ground, air; got 'top'"),
        (["--style", "real"], "error: style must be one of default, target; got 'real'"),
        (["--size", "16"], "error: size must be an even integer from 32 to 1024; got 16"),
        (["--splits", "train=0.5,holdout=0.5"], "error: split must be one of train, val, test; got 'holdout'"),
    ],
)
def test_synth_bad_values_one_line(tmp_path, capsys, args, message):
    rc = main(["synth", "--out", str(tmp_path / "x"), *args])
    assert rc == 1
    assert capsys.readouterr().err.strip() == message


def test_contact_sheet(tmp_path, capsys):
    png = tmp_path / "sheet.png"
    assert main(["contact-sheet", "--out", str(png), "--size", "48", "--style", "target"]) == 0
    img = cv2.imread(str(png))
    label_h = 16
    assert img.shape == (label_h + 2 * (48 + label_h + 4), 7 * (48 + 4), 3)  # title line + one row per view
    assert main(["contact-sheet", "--out", str(tmp_path / "x.jpg")]) == 1
    assert capsys.readouterr().err.strip().endswith("contact sheet must be a .png file; got '" + str(tmp_path / "x.jpg") + "'")
