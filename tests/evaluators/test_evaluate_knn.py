"""evaluate_knn on planted features: exact metrics, provenance fields, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from gesturebench.errors import EvaluationError
from gesturebench.evaluators.knn import KnnResult, evaluate_knn, source_label
from gesturebench.types import FeatureSet

CLASSES = ("A", "B", "C")


def fs(points, labels, domain, key, classes=CLASSES, encoder="toy"):
    x = np.asarray(points, np.float32).reshape(len(labels), -1)
    n = len(labels)
    return FeatureSet(
        x, np.asarray(labels), tuple(f"{domain}/{key}/{i}" for i in range(n)), classes,
        (domain,) * n, ("ground",) * n, key=key, meta={"encoder": {"name": encoder}},
    )


def planted():
    # 1-D features: class c lives near 10*c
    syn = fs([0, 1, 10, 11, 20, 21], [0, 0, 1, 1, 2, 2], "synthetic", "k-syn")
    tgt = fs([2, 12, 22], [0, 1, 2], "target", "k-tgt")
    # test: 0.5 -> A (right), 10.5 -> B (right), 19.9 -> C (true B: wrong), 21.5 -> C (right)
    test = fs([0.5, 10.5, 19.9, 21.5], [0, 1, 1, 2], "target", "k-test")
    return syn, tgt, test


def test_planted_result_values():
    syn, tgt, test = planted()
    r = evaluate_knn([syn, tgt], test, k=3, bootstrap=200, seed=1)
    assert isinstance(r, KnnResult)
    assert r.accuracy == 0.75
    assert r.per_class_accuracy == (1.0, 0.5, 1.0)
    assert r.mean_per_class_accuracy == pytest.approx(2.5 / 3)
    assert r.confusion == ((1, 0, 0), (0, 1, 1), (0, 0, 1))
    assert r.chance == pytest.approx(1 / 3)
    assert r.train_keys == ("k-syn", "k-tgt") and r.test_key == "k-test"
    assert r.train_source == "synthetic+target" and r.test_source == "target"
    assert r.n_train_per_domain == {"synthetic": 6, "target": 3} and r.n_train == 9 and r.n_test == 4
    assert r.encoder == "toy"
    assert r.settings["k"] == 3 and r.settings["metric"] == "l2" and r.settings["seed"] == 1
    p = r.predictions[2]
    assert p["video_id"] == "target/k-test/2" and p["label"] == 1 and p["pred"] == 2
    assert p["neighbors"] == ["synthetic/k-syn/4", "synthetic/k-syn/5", "target/k-tgt/2"]
    assert p["distances"] == pytest.approx([0.1, 1.1, 2.1], abs=1e-5)
    lo, hi = r.ci
    assert 0.0 <= lo <= 0.75 <= hi <= 1.0
    assert r.vote_ties == 0 and r.to_dict()["metrics"]["vote_ties"] == 0


def test_vote_ties_are_counted():
    syn, _, _ = planted()
    # k=2: 0.5 -> 0 (A), 1 (A); 15.4 -> 11 (B, d=4.4), 20 (C, d=4.6): tie -> B, the nearer
    test = fs([0.5, 15.4], [0, 2], "target", "k-t2")
    r = evaluate_knn([syn], test, k=2, bootstrap=0)
    assert [p["vote_tied"] for p in r.predictions] == [False, True]
    assert [p["pred"] for p in r.predictions] == [0, 1]
    assert r.vote_ties == 1 and r.accuracy == 0.5


def test_round_trip_and_single_trainset():
    syn, _, test = planted()
    r = evaluate_knn(syn, test, k=1, bootstrap=0)
    assert r.ci is None and r.train_source == "synthetic"
    d = r.to_dict()
    assert d["metrics"]["ci"] is None and d["train"]["n"] == 6 and d["test"]["n"] == 4
    assert KnnResult.from_dict(d) == r


def test_source_label_order():
    assert source_label(["target", "synthetic", "target"]) == "synthetic+target"
    assert source_label(["real"]) == "real"


def test_errors_are_clear():
    syn, tgt, test = planted()
    other = fs([0.5], [0], "target", "x", classes=("A", "B", "D"))
    with pytest.raises(EvaluationError, match=r"^test classes \['A', 'B', 'D'\] differ from training classes \['A', 'B', 'C'\]$"):
        evaluate_knn([syn], other)
    with pytest.raises(EvaluationError, match=r"^training set 2 has classes \['A', 'B', 'D'\] but training set 1 has"):
        evaluate_knn([syn, other], test)
    wide = fs([[0, 1]], [0], "target", "w")
    with pytest.raises(EvaluationError, match=r"^test feature dimension 2 differs from training dimension 1$"):
        evaluate_knn([syn], wide)
    bad = fs([0.5, 1.0], [0, 7], "target", "b")
    with pytest.raises(EvaluationError, match=r"^test has labels outside the class list \(0\.\.2\): 7$"):
        evaluate_knn([syn], bad)
    with pytest.raises(EvaluationError, match=r"^k=7 exceeds the number of training videos \(6\)$"):
        evaluate_knn([syn], test, k=7)
    enc = fs([0.5], [0], "target", "e", encoder="other")
    with pytest.raises(EvaluationError, match=r"^features come from different encoders: other, toy$"):
        evaluate_knn([syn], enc)
    with pytest.raises(EvaluationError, match=r"^no training feature sets given$"):
        evaluate_knn([], test)


def test_feature_store_metadata_layout_and_weight_mismatch():
    def store_fs(x, y, sha):
        meta = {"settings": {"encoder": {"name": "videomae", "weights_sha256": sha}}}
        n = len(y)
        ids = tuple(f"{sha[:2]}-{len(x)}-{i}" for i in range(n))  # distinct videos per set (no train/test overlap)
        return FeatureSet(np.asarray(x, np.float32).reshape(n, 1), np.asarray(y), ids, CLASSES,
                          ("real",) * n, ("ground",) * n, key="k", meta=meta)

    a = store_fs([0, 10, 20], [0, 1, 2], "aa" * 32)
    r = evaluate_knn(a, store_fs([1], [0], "aa" * 32), k=1, bootstrap=0)
    assert r.encoder == "videomae" and r.accuracy == 1.0
    with pytest.raises(EvaluationError, match=r"^features come from different encoders: videomae@aaaaaaaaaaaa, videomae@bbbbbbbbbbbb$"):
        evaluate_knn(a, store_fs([1], [0], "bb" * 32), k=1)
