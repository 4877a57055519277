from __future__ import annotations

import pytest

from gesturebench.errors import ConfigError, ManifestError, Problem, check_choice
from gesturebench.types import FeatureSet, Manifest, VideoRecord


def test_check_choice_names_value_and_allowed():
    with pytest.raises(ConfigError, match=r"^metric must be one of l2, cosine; got 'l1'$"):
        check_choice("metric", "l1", ["l2", "cosine"])


def test_manifest_error_reports_first_and_count():
    err = ManifestError([Problem("a.txt:3", "missing file x.mp4"), Problem("a.txt:4", "unknown label 9")])
    assert str(err) == "invalid manifest: a.txt:3: missing file x.mp4 (and 1 more problem)"
    assert len(err.problems) == 2


def test_video_record_rejects_bad_domain():
    with pytest.raises(ConfigError, match="domain must be one of synthetic, real, target; got 'fake'"):
        VideoRecord("a.mp4", 0, "Advance", domain="fake")


def test_manifest_hash_changes_with_content(tmp_path):
    r1 = VideoRecord("a.mp4", 0, "A")
    r2 = VideoRecord("b.mp4", 1, "B")
    m1 = Manifest(tmp_path, ("A", "B"), (r1, r2))
    m2 = Manifest(tmp_path, ("A", "B"), (r1,))
    assert m1.content_hash() != m2.content_hash()
    assert m1.content_hash() == Manifest(tmp_path, ["A", "B"], [r1, r2]).content_hash()


def test_feature_set_checks_lengths():
    import numpy as np

    with pytest.raises(ConfigError, match="labels has 2 entries for 3 feature rows"):
        FeatureSet(np.zeros((3, 4), np.float32), np.zeros(2), ("a", "b", "c"), ("A",), ("synthetic",) * 3, ("ground",) * 3)


def test_cli_version_and_error_exit(capsys):
    from gesturebench.cli import main

    assert main(["--version"]) == 0
    assert main(["no-such-command"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "no-such-command" in err


def test_cli_ctrl_c_exits_130_with_one_line(monkeypatch, capsys, tmp_path):
    import gesturebench.synth.writer as writer
    from gesturebench.cli import INTERRUPTED, main

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "generate_dataset", interrupted)
    assert main(["synth", "--out", str(tmp_path), "--per-class", "1", "--views", "ground", "--seed", "0"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == INTERRUPTED


def test_cli_library_error_is_one_line(capsys, tmp_path):
    from gesturebench.cli import main

    assert main(["knn", "--train", str(tmp_path / "nope"), "--test", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "nope" in err[0]
