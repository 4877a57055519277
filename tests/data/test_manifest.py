"""Manifest readers: RoCoG-v2 lists, folder per class, CSV/JSONL; one test per validation error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gesturebench.data.manifest import (
    load_folder,
    load_manifest,
    load_rocog,
    load_table,
    read_class_dict,
    split_of_list,
    write_annotation_list,
)
from gesturebench.errors import ManifestError, Problem
from gesturebench.types import ROCOG_CLASSES, VideoRecord

VIDEOS = [
    ("syn/ground/Advance/Scene1_0_Advance_30_1_2022_17_3_43.mp4", 0),
    ("syn/ground/Halt/Scene1_4_Halt_30_1.mp4", 4),
    ("syn/air/Rally/Scene2_2_Rally.mp4", 2),
    ("real/ground/MoveInReverse/S01_10m_ground_label7_start2363.mp4", 6),
    ("tgt/ground/Attention/t_0001.mp4", 1),
]


def _touch(root: Path, rel: str) -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(b"\0")


@pytest.fixture
def rocog(tmp_path: Path) -> Path:
    root = tmp_path / "rocog"
    root.mkdir()
    (root / "class_dict.json").write_text(json.dumps({str(i): c for i, c in enumerate(ROCOG_CLASSES)}))
    for rel, _ in VIDEOS:
        _touch(root, rel)
    (root / "annotations").mkdir()
    return root


def _list(root: Path, name: str, lines: list[str]) -> Path:
    path = root / "annotations" / name
    path.write_text("".join(line + "\n" for line in lines))
    return path


def _problems(root: Path, lines: list[str], name: str = "syn_ground_train.txt") -> list[str]:
    _list(root, name, lines)
    with pytest.raises(ManifestError) as info:
        load_rocog(root, [name])
    return [str(p) for p in info.value.problems]


def test_rocog_reads_domains_views_splits(rocog: Path):
    _list(rocog, "syn_ground_train.txt", [f"{p} {lab}" for p, lab in VIDEOS[:3]])
    _list(rocog, "real_ground_test.txt", [f"{p} {lab}" for p, lab in VIDEOS[3:]])
    m = load_rocog(rocog, ["syn_ground_train.txt", rocog / "annotations" / "real_ground_test.txt"])
    assert m.class_names == ROCOG_CLASSES
    assert [(r.path, r.label, r.class_name, r.domain, r.view, r.split) for r in m.records] == [
        (VIDEOS[0][0], 0, "Advance", "synthetic", "ground", "train"),
        (VIDEOS[1][0], 4, "Halt", "synthetic", "ground", "train"),
        (VIDEOS[2][0], 2, "Rally", "synthetic", "air", "train"),
        (VIDEOS[3][0], 6, "MoveInReverse", "real", "ground", "test"),
        (VIDEOS[4][0], 1, "Attention", "target", "ground", "test"),
    ]
    assert m.sources == ("annotations/syn_ground_train.txt", "annotations/real_ground_test.txt")
    assert m.abspath(m.records[0]) == rocog / VIDEOS[0][0]


def test_split_from_list_name():
    assert split_of_list("annotations/syn_ground_train.txt") == "train"
    assert split_of_list("real_air_val_tsonly.txt") == "val"
    assert split_of_list("tgt_ground_test.txt") == "test"
    assert split_of_list("my-list.txt") == "all"


def test_class_dict(rocog: Path):
    assert read_class_dict(rocog) == ROCOG_CLASSES
    (rocog / "class_dict.json").write_text('{"0": "A", "2": "B"}')
    with pytest.raises(ManifestError, match=r"class indices must be 0-1 without gaps; got \[0, 2\]"):
        read_class_dict(rocog)


# ---- one test per validation error (exact messages) -----------------------------


def test_missing_file(rocog: Path):
    assert _problems(rocog, ["syn/ground/Advance/gone.mp4 0"]) == [
        "annotations/syn_ground_train.txt:1: missing file 'syn/ground/Advance/gone.mp4'"
    ]


def test_unknown_label(rocog: Path):
    assert _problems(rocog, [f"{VIDEOS[0][0]} 7"]) == [
        "annotations/syn_ground_train.txt:1: unknown label 7: allowed are 0-6 (7 classes)"
    ]


def test_label_disagrees_with_class_folder(rocog: Path):
    assert _problems(rocog, [f"{VIDEOS[1][0]} 0"]) == [
        "annotations/syn_ground_train.txt:1: label 0 (Advance) disagrees with class folder 'Halt' "
        "of 'syn/ground/Halt/Scene1_4_Halt_30_1.mp4'"
    ]


def test_duplicate_entry(rocog: Path):
    assert _problems(rocog, [f"{VIDEOS[0][0]} 0", f"{VIDEOS[1][0]} 4", f"{VIDEOS[0][0]} 0"]) == [
        f"annotations/syn_ground_train.txt:3: duplicate entry '{VIDEOS[0][0]}' "
        "(first listed at annotations/syn_ground_train.txt:1)"
    ]


def test_duplicate_across_lists(rocog: Path):
    _list(rocog, "syn_ground_train.txt", [f"{VIDEOS[0][0]} 0"])
    _list(rocog, "syn_ground_val.txt", [f"{VIDEOS[0][0]} 0"])
    with pytest.raises(ManifestError) as info:
        load_rocog(rocog, ["syn_ground_train.txt", "syn_ground_val.txt"])
    assert [str(p) for p in info.value.problems] == [
        f"annotations/syn_ground_val.txt:1: duplicate entry '{VIDEOS[0][0]}' "
        "(first listed at annotations/syn_ground_train.txt:1)"
    ]


def test_absolute_path_refused(rocog: Path):
    absolute = str(rocog / VIDEOS[0][0])
    assert _problems(rocog, [f"{absolute} 0"]) == [
        f"annotations/syn_ground_train.txt:1: absolute path {absolute!r} refused: paths must be relative to the root"
    ]


def test_windows_absolute_path_refused(rocog: Path):
    assert _problems(rocog, ["C:\\data\\x.mp4 0"]) == [
        "annotations/syn_ground_train.txt:1: absolute path 'C:\\\\data\\\\x.mp4' refused: "
        "paths must be relative to the root"
    ]


def test_dotdot_escape_refused(rocog: Path):
    _touch(rocog.parent, "outside.mp4")  # exists, but must never be reached
    assert _problems(rocog, ["syn/ground/../../../outside.mp4 0"]) == [
        "annotations/syn_ground_train.txt:1: path 'syn/ground/../../../outside.mp4' refused: '..' would escape the root"
    ]


def test_blank_line(rocog: Path):
    assert _problems(rocog, [f"{VIDEOS[0][0]} 0", "   ", f"{VIDEOS[1][0]} 4"]) == [
        "annotations/syn_ground_train.txt:2: blank line"
    ]


def test_malformed_line(rocog: Path):
    assert _problems(rocog, [f"{VIDEOS[0][0]}", f"{VIDEOS[1][0]} four"]) == [
        f"annotations/syn_ground_train.txt:1: malformed line '{VIDEOS[0][0]}': "
        "expected '<relative/path.mp4> <label index>'",
        "annotations/syn_ground_train.txt:2: malformed label 'four': expected a class index (0, 1, ...)",
    ]


def test_path_outside_domain_layout(rocog: Path):
    _touch(rocog, "videos/Advance/a.mp4")
    assert _problems(rocog, ["videos/Advance/a.mp4 0"]) == [
        "annotations/syn_ground_train.txt:1: path 'videos/Advance/a.mp4' must start with syn/, real/ or tgt/, "
        "then ground/ or air/"
    ]


def test_empty_manifest(rocog: Path):
    assert _problems(rocog, []) == ["annotations/syn_ground_train.txt: empty manifest: no videos listed"]


def test_missing_list(rocog: Path):
    with pytest.raises(ManifestError) as info:
        load_rocog(rocog, ["real_ground_test.txt"])
    assert [str(p) for p in info.value.problems] == ["real_ground_test.txt: annotation list not found"]


def test_every_problem_collected_before_failing(rocog: Path):
    problems = _problems(
        rocog,
        [
            f"{VIDEOS[0][0]} 0",  # fine
            "syn/ground/Advance/gone.mp4 0",
            "",
            f"{VIDEOS[1][0]} 9",
            "/etc/passwd 0",
            f"{VIDEOS[0][0]} 0",
        ],
    )
    assert [p.split(": ", 1)[0] for p in problems] == [
        "annotations/syn_ground_train.txt:2",
        "annotations/syn_ground_train.txt:3",
        "annotations/syn_ground_train.txt:4",
        "annotations/syn_ground_train.txt:5",
        "annotations/syn_ground_train.txt:6",
    ]
    err = ManifestError([Problem("a.txt:1", "x"), Problem("a.txt:2", "y"), Problem("a.txt:3", "z")])
    assert str(err) == "invalid manifest: a.txt:1: x (and 2 more problems)"


def test_write_annotation_list_round_trip(rocog: Path):
    recs = [VideoRecord(p, lab, ROCOG_CLASSES[lab]) for p, lab in VIDEOS[:2]]
    out = rocog / "annotations" / "syn_ground_val.txt"
    write_annotation_list(out, recs + [(VIDEOS[2][0], 2)])
    assert out.read_text() == f"{VIDEOS[0][0]} 0\n{VIDEOS[1][0]} 4\n{VIDEOS[2][0]} 2\n"
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".tmp-")]
    m = load_rocog(rocog, [out])
    assert [(r.path, r.label, r.split) for r in m.records] == [
        (VIDEOS[0][0], 0, "val"),
        (VIDEOS[1][0], 4, "val"),
        (VIDEOS[2][0], 2, "val"),
    ]


# ---- folder per class ------------------------------------------------------------


def test_folder_plain_layout(tmp_path: Path):
    for rel in ["Wave/a.mp4", "Wave/b.avi", "Clap/c.mp4", "Clap/notes.txt", "Clap/.tmp-d.mp4"]:
        _touch(tmp_path, rel)
    m = load_folder(tmp_path)
    assert m.class_names == ("Clap", "Wave")
    assert [(r.path, r.label, r.domain, r.view) for r in m.records] == [
        ("Clap/c.mp4", 0, "synthetic", "ground"),
        ("Wave/a.mp4", 1, "synthetic", "ground"),
        ("Wave/b.avi", 1, "synthetic", "ground"),
    ]


def test_folder_rocog_layout_and_unknown_class(rocog: Path):
    m = load_manifest(rocog)  # no annotation lists yet: folder form
    assert sorted((r.class_name, r.domain, r.view) for r in m.records) == sorted(
        [("Advance", "synthetic", "ground"), ("Halt", "synthetic", "ground"), ("Rally", "synthetic", "air"),
         ("MoveInReverse", "real", "ground"), ("Attention", "target", "ground")]
    )
    _touch(rocog, "syn/ground/Salute/x.mp4")
    with pytest.raises(ManifestError) as info:
        load_folder(rocog)
    assert [str(p) for p in info.value.problems] == [
        "syn/ground/Salute: unknown class folder 'Salute': class_dict.json has " + ", ".join(ROCOG_CLASSES)
    ]


def test_folder_empty(tmp_path: Path):
    (tmp_path / "Wave").mkdir()
    with pytest.raises(ManifestError) as info:
        load_folder(tmp_path)
    assert [str(p) for p in info.value.problems] == [f"{tmp_path}: empty manifest: no videos listed"]


# ---- CSV / JSONL ----------------------------------------------------------------


def test_csv_with_names_and_indices(rocog: Path):
    table = rocog / "m.csv"
    table.write_text(
        "path,label,split\n"
        f"{VIDEOS[0][0]},Advance,train\n"
        f"{VIDEOS[3][0]},6,test\n"
    )
    m = load_table(table)
    assert [(r.label, r.class_name, r.domain, r.view, r.split) for r in m.records] == [
        (0, "Advance", "synthetic", "ground", "train"),
        (6, "MoveInReverse", "real", "ground", "test"),
    ]
    assert load_manifest(table).records == m.records


def test_jsonl_custom_classes_and_problems(tmp_path: Path):
    for rel in ["Wave/a.mp4", "Clap/b.mp4"]:
        _touch(tmp_path, rel)
    table = tmp_path / "m.jsonl"
    rows = [
        {"path": "Wave/a.mp4", "label": "Wave", "domain": "real", "view": "air"},
        {"path": "Clap/b.mp4", "label": "Clap", "domain": "tgt"},
    ]
    table.write_text("".join(json.dumps(r) + "\n" for r in rows))
    m = load_table(table)
    assert m.class_names == ("Clap", "Wave")
    assert [(r.label, r.domain, r.view) for r in m.records] == [(1, "real", "air"), (0, "target", "ground")]
    bad = [
        {"path": "Clap/b.mp4", "label": "Wave"},
        {"path": "Wave/a.mp4", "label": "Wave", "domain": "sim"},
        "{not json",
        {"path": "../x.mp4", "label": "Clap"},
    ]
    table.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in bad))
    with pytest.raises(ManifestError) as info:
        load_table(table)
    assert [str(p) for p in info.value.problems] == [
        "m.jsonl:1: label 1 (Wave) disagrees with class folder 'Clap' of 'Clap/b.mp4'",
        "m.jsonl:2: unknown domain 'sim': allowed are synthetic, real, target",
        "m.jsonl:3: malformed line: not valid JSON (Expecting property name enclosed in double quotes)",
        "m.jsonl:4: path '../x.mp4' refused: '..' would escape the root",
    ]


def test_csv_malformed_rows(rocog: Path):
    table = rocog / "m.csv"
    table.write_text(f"path,label\n{VIDEOS[0][0]},0,extra\n,\n{VIDEOS[1][0]},Salute\n")
    with pytest.raises(ManifestError) as info:
        load_table(table)
    assert [str(p) for p in info.value.problems] == [
        "m.csv:2: malformed line: 3 fields, header has 2",
        "m.csv:3: blank line",
        "m.csv:4: unknown label 'Salute': allowed are 0-6 or " + ", ".join(ROCOG_CLASSES),
    ]
    table.write_text("file,class\n")
    with pytest.raises(ManifestError, match=r"m.csv:1: CSV header must name columns path and label"):
        load_table(table)
