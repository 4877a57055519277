"""The offline demo end to end on a tiny configuration."""

from __future__ import annotations

import json

import pytest

from gesturebench.api.demo import DEMO_TRAIN_SOURCES, DemoConfig, demo_table_rows, run_demo
from gesturebench.errors import ConfigError


@pytest.fixture(scope="module")
def tiny_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    cfg = DemoConfig(
        out=out, per_class_synthetic=2, per_class_target=2, size=64, frames=16, encoders=("pixels",),
        workers=0, bootstrap=200,
    )
    return cfg, run_demo(cfg)


def test_demo_writes_one_result_per_training_source(tiny_demo):
    cfg, summary = tiny_demo
    assert len(summary.result_files) == len(DEMO_TRAIN_SOURCES)
    docs = [json.loads(p.read_text()) for p in summary.result_files]
    assert [d["train"]["source"] for d in docs] == ["synthetic", "target", "synthetic+target"]
    # 7 classes x 1 target test video each; train sizes add up
    assert summary.n_test == 7
    assert summary.n_train == {"synthetic": 14, "target": 7, "synthetic+target": 21}
    for doc, source in zip(docs, DEMO_TRAIN_SOURCES):
        assert doc["test"]["source"] == "target"
        assert doc["metrics"]["accuracy"] == pytest.approx(summary.accuracy["pixels"][source])
        assert sum(map(sum, doc["confusion"])) == 7
    assert summary.chance == pytest.approx(1 / 7)


def test_demo_report_and_table(tiny_demo):
    _, summary = tiny_demo
    text = summary.report.read_text()
    assert "synthetic stand-in" in text  # target style is never called real
    rows = demo_table_rows(summary)
    assert rows[0][0] == "pixels" and len(rows[0]) == 1 + len(DEMO_TRAIN_SOURCES)
    acc = summary.accuracy["pixels"]["synthetic"]
    assert rows[0][1].startswith(f"{100 * acc:.1f} [")


def test_demo_rerun_reuses_videos_and_features(tiny_demo):
    cfg, first = tiny_demo
    videos = sorted((cfg.out / "data").rglob("*.mp4"))
    mtimes = [p.stat().st_mtime_ns for p in videos]
    again = run_demo(cfg)
    assert [p.stat().st_mtime_ns for p in videos] == mtimes
    assert again.accuracy == first.accuracy


def test_demo_config_rejects_bad_values(tmp_path):
    with pytest.raises(ConfigError, match="per_class_target must be >= 2"):
        DemoConfig(out=tmp_path, per_class_target=1)
    with pytest.raises(ConfigError, match=r"target_test_fraction must be in \(0, 1\); got 1.5"):
        DemoConfig(out=tmp_path, target_test_fraction=1.5)


def test_demo_skips_and_lists_a_broken_video(tmp_path):
    cfg = DemoConfig(
        out=tmp_path, per_class_synthetic=1, per_class_target=2, size=64, frames=16, encoders=("pixels", "test-tiny-vit"),
        workers=0, bootstrap=0,
    )
    run_demo(cfg)
    test_list = (tmp_path / "data" / "annotations" / "tgt_ground_test.txt").read_text().split()
    broken = test_list[0]
    (tmp_path / "data" / broken).write_bytes(b"not a video")
    summary = run_demo(cfg)
    assert summary.n_test == 6
    assert [vid for vid, _ in summary.skipped] == [broken]  # once, though both encoders skipped it
    assert "cannot decode" in summary.skipped[0][1] or "not a readable video" in summary.skipped[0][1]
    assert summary.ci == {}  # bootstrap=0: no interval, and the table says so
    assert demo_table_rows(summary)[0][1] == f"{100 * summary.accuracy['pixels']['synthetic']:.1f}"
