"""`gesturebench knn` and `gesturebench report` through the real CLI entry point."""

from __future__ import annotations

from pathlib import Path

import json

import numpy as np
import pytest

from gesturebench.cli import main
from gesturebench.types import FeatureSet


def _fs(x, y, domain, key, classes=("A", "B")):
    n = len(y)
    return FeatureSet(np.asarray(x, np.float32).reshape(n, -1), np.asarray(y), tuple(f"{key}/{i}" for i in range(n)),
                      classes, (domain,) * n, ("ground",) * n, key=key,
                      meta={"settings": {"encoder": {"name": "pixels", "weights_sha256": None}}})


STORES = {
    "syn": _fs([0, 1, 9, 10], [0, 0, 1, 1], "synthetic", "ksyn"),
    "tgt": _fs([2, 8], [0, 1], "target", "ktgt"),
    "test": _fs([0.2, 9.5, 4.9], [0, 1, 1], "target", "ktest"),
    "other": _fs([0.2], [0], "target", "kother", classes=("A", "C")),
}


@pytest.fixture(autouse=True)
def fake_stores(monkeypatch):
    monkeypatch.setattr("gesturebench.api.common.load_set", lambda p: STORES[Path(p).name])


def _one(folder, pattern):
    """The single file matching ``pattern`` (the settings hash is the ``*``)."""
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, (pattern, [p.name for p in folder.iterdir()])
    return found[0]


def test_knn_prints_and_writes(tmp_path, capsys):
    rc = main(["knn", "--train", "syn", "--train", "tgt", "--test", "test", "-k", "1", "--out", str(tmp_path),
               "--bootstrap", "50", "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0
    path = _one(tmp_path, "knn__pixels__train-synthetic+target.ksyn.ktgt__test-target.ktest__k1-l2__s-*.json")
    assert f"wrote {path}" in out
    doc = json.loads(path.read_text())
    # 4.9 (true B): nearest training point is the target-domain A at 2 (2.9 < 3.1 to 8) -> wrong
    assert doc["metrics"]["accuracy"] == pytest.approx(2 / 3)
    assert doc["train"]["keys"] == ["ksyn", "ktgt"] and doc["test"]["key"] == "ktest"
    assert doc["settings"]["bootstrap"] == 50
    assert "66.7" in out and "chance" in out


def test_knn_user_errors_exit_1(tmp_path, capsys):
    assert main(["knn", "--train", "syn", "--test", "other", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "error: test classes ['A', 'C'] differ from training classes ['A', 'B']"
    assert main(["knn", "--train", "syn", "--test", "test", "--metric", "l1"]) == 1
    assert capsys.readouterr().err.strip() == "error: --metric must be one of l2, cosine; got 'l1'"


def test_report_command(tmp_path, capsys):
    main(["knn", "--train", "syn", "--test", "test", "--out", str(tmp_path / "res"), "--bootstrap", "0",
          "--device", "cpu"])
    rc = main(["report", str(tmp_path / "res"), "--out", str(tmp_path / "rep")])
    assert rc == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "| pixels | 66.7 |" in md
