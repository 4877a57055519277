"""`gesturebench data check` / `data probe` through gesturebench.cli.main."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from data_videos import make_video

from gesturebench.cli import main
from gesturebench.types import ROCOG_CLASSES


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "class_dict.json").write_text(json.dumps({str(i): c for i, c in enumerate(ROCOG_CLASSES)}))
    files = {
        "syn/ground/Advance/a1.mp4": 0,
        "syn/ground/Advance/a2.mp4": 0,
        "syn/ground/Halt/h1.mp4": 4,
        "syn/air/Halt/h2.mp4": 4,
        "real/ground/Rally/r1.mp4": 2,
    }
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(b"\0")
    ann = tmp_path / "annotations"
    ann.mkdir()
    (ann / "syn_ground_train.txt").write_text("".join(f"{p} {lab}\n" for p, lab in files.items() if p.startswith("syn/")))
    (ann / "real_ground_test.txt").write_text("real/ground/Rally/r1.mp4 2\n")
    return tmp_path


def _row(out: str, name: str) -> list[str]:
    line = next(ln for ln in out.splitlines() if ln.strip("│┃ ").startswith(name + " "))
    return [c.strip() for c in line.strip("│┃").split("│") if c.strip()]


def test_check_prints_counts_per_class_domain_view(root: Path, capsys: pytest.CaptureFixture[str]):
    rc = main(["data", "check", str(root), "--list", "syn_ground_train.txt", "--list", "real_ground_test.txt"])
    out = capsys.readouterr().out
    assert rc == 0
    header = next(ln for ln in out.splitlines() if "class" in ln and "total" in ln)
    assert [c.strip() for c in header.strip("┃").split("┃")] == ["class", "syn/ground", "syn/air", "real/ground", "total"]
    assert _row(out, "Advance") == ["Advance", "2", "0", "0", "2"]
    assert _row(out, "Halt") == ["Halt", "1", "1", "0", "2"]
    assert _row(out, "Rally") == ["Rally", "0", "0", "1", "1"]
    assert _row(out, "total") == ["total", "3", "1", "1", "5"]
    assert "splits: test 1, train 4" in out
    assert "ok: no problems found" in out


def test_check_folder_form_and_table_form(root: Path, capsys: pytest.CaptureFixture[str]):
    (root / "annotations" / "syn_ground_train.txt").unlink()
    (root / "annotations" / "real_ground_test.txt").unlink()
    assert main(["data", "check", str(root)]) == 0  # no lists: folder per class
    assert _row(capsys.readouterr().out, "total") == ["total", "3", "1", "1", "5"]
    (root / "m.csv").write_text("path,label\nsyn/ground/Advance/a1.mp4,Advance\nreal/ground/Rally/r1.mp4,2\n")
    assert main(["data", "check", str(root), "--table", str(root / "m.csv")]) == 0
    assert _row(capsys.readouterr().out, "total") == ["total", "1", "1", "2"]


def test_check_prints_every_problem_and_exits_1(root: Path, capsys: pytest.CaptureFixture[str]):
    (root / "annotations" / "real_ground_test.txt").write_text(
        "real/ground/Rally/r1.mp4 2\nreal/ground/Rally/gone.mp4 2\n\nreal/ground/Rally/r1.mp4 9\n/abs.mp4 1\n"
    )
    rc = main(["data", "check", str(root), "-l", "real_ground_test.txt", "-l", "missing_list.txt"])
    captured = capsys.readouterr()
    assert rc == 1
    assert captured.err.splitlines() == [
        "annotations/real_ground_test.txt:2: missing file 'real/ground/Rally/gone.mp4'",
        "annotations/real_ground_test.txt:3: blank line",
        "annotations/real_ground_test.txt:4: unknown label 9: allowed are 0-6 (7 classes)",
        "annotations/real_ground_test.txt:5: absolute path '/abs.mp4' refused: paths must be relative to the root",
        "missing_list.txt: annotation list not found",
        f"error: 5 problems in the manifest of {root}",
    ]
    assert "total" not in captured.out


def test_check_single_problem_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["data", "check", str(tmp_path / "nowhere")]) == 1
    assert capsys.readouterr().err.splitlines() == [f"error: {tmp_path / 'nowhere'}: data root is not a folder"]


def test_check_rejects_list_and_table_together(root: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["data", "check", str(root), "-l", "a.txt", "--table", "m.csv"]) == 1
    assert capsys.readouterr().err.strip() == "error: use either --list or --table, not both"


def test_probe_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    video = make_video(tmp_path / "v.mp4", n=12, width=32, height=24)
    (tmp_path / "bad.mp4").write_text("nope")
    rc = main(["data", "probe", str(video), str(tmp_path / "bad.mp4")])
    captured = capsys.readouterr()
    assert rc == 1
    assert "│     12 │" in captured.out and "32x24" in captured.out
    assert captured.err.strip() == (
        f"error: cannot decode {tmp_path / 'bad.mp4'}: "
        "not a readable video (invalid data: corrupt, truncated or not a video file)"
    )
