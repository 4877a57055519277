"""Few-shot curves: seeded nested sampling, exact planted curves, intervals, errors, CLI."""

from __future__ import annotations

from pathlib import Path

import json

import numpy as np
import pytest

from gesturebench.cli import main
from gesturebench.errors import ConfigError, EvaluationError
from gesturebench.evaluators.fewshot import (
    FewShotResult,
    class_orders,
    fewshot_curve,
    parse_shots,
    sample_shots,
    t_interval,
)
from gesturebench.types import FeatureSet

K, M = 3, 10  # classes, modes per class
CLASSES = ("A", "B", "C")


def fs(x, y, domain, key, prefix=None):
    x = np.asarray(x, np.float32).reshape(len(y), -1)
    n = len(y)
    return FeatureSet(x, np.asarray(y), tuple(f"{prefix or key}/{i}" for i in range(n)), CLASSES,
                      (domain,) * n, ("ground",) * n, key=key, meta={"encoder": {"name": "toy"}})


def planted(pool_per_mode=1):
    """Each class has M orthogonal modes (scale 10). Pool: one video per mode (+ 0.01 noise).

    Base (synthetic): a decoy of the NEXT class 3 units from every mode, so with k=1 a test
    video is right exactly when its mode was sampled: accuracy at s shots = s / M exactly.
    """
    rng = np.random.default_rng(0)
    d = K * M
    modes = np.eye(d) * 10.0
    mode_label = np.repeat(np.arange(K), M)
    pool_x = np.repeat(modes, pool_per_mode, 0) + 0.01 * rng.normal(size=(d * pool_per_mode, d))
    pool_y = np.repeat(mode_label, pool_per_mode)
    decoy = modes + 3.0 * np.roll(np.eye(d), 1, 1)
    base_y = (mode_label + 1) % K
    test = fs(modes, mode_label, "target", "test")
    return fs(pool_x, pool_y, "target", "pool"), fs(decoy, base_y, "synthetic", "syn"), test


def test_sampling_is_seeded_nested_and_counts_per_class():
    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1, 0, 0, 2, 1, 0])  # class 0: 6, class 1: 4, class 2: 3
    a, short_a = sample_shots(labels, 3, 2, seed=4, repeat=1)
    b, _ = sample_shots(labels, 3, 2, seed=4, repeat=1)
    np.testing.assert_array_equal(a, b)
    assert np.bincount(labels[a], minlength=3).tolist() == [2, 2, 2] and short_a == []
    # exact rule: the first `shots` rows of each class's permutation under default_rng([seed, repeat])
    rng = np.random.default_rng([4, 1])
    expect = np.sort(np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:2] for c in range(3)]))
    np.testing.assert_array_equal(a, expect)
    # nested: the 2-shot sample is inside the 3-shot sample of the same repeat
    c3, short3 = sample_shots(labels, 3, 3, seed=4, repeat=1)
    assert set(a) <= set(c3)
    # classes with fewer videos use all of them and are flagged
    c5, short5 = sample_shots(labels, 3, 5, seed=4, repeat=1)
    assert np.bincount(labels[c5], minlength=3).tolist() == [5, 4, 3] and short5 == [1, 2]
    assert short3 == []
    # other repeats / seeds draw other samples
    assert any(not np.array_equal(a, sample_shots(labels, 3, 2, seed=4, repeat=r)[0]) for r in range(2, 6))
    assert [len(o) for o in class_orders(labels, 4, 0, 0)] == [6, 4, 3, 0]


def test_planted_curve_exact_and_monotone():
    pool, base, test = planted()
    r = fewshot_curve(pool, test, shots=(1, 2, 5, 10), repeats=3, method="knn", base=[base], k=1)
    assert isinstance(r, FewShotResult)
    assert [p.shots for p in r.points] == [0, 1, 2, 5, 10]
    assert r.point(0).accuracies == (0.0,)  # base alone: every decoy is wrong
    for s in (1, 2, 5, 10):
        p = r.point(s)
        assert p.accuracies == pytest.approx((s / M,) * 3)
        assert p.n_sampled == (K * s,) * 3
        assert p.short_classes == ()
    means = [p.mean for p in r.points]
    assert means == sorted(means) and means[-1] == 1.0
    d = r.to_dict()
    assert d["task"] == "fewshot" and d["base"] == {"keys": ["syn"], "source": "synthetic", "n": 30}
    assert d["pool"]["n_per_class"] == [10, 10, 10]
    assert d["curve"][4]["ci"] == [1.0, 1.0]  # zero spread: zero-width interval
    assert len(d["samples"]) == 4 * 3 and len(d["samples"][0]["video_ids"]) == 3


def test_short_classes_flagged_in_curve():
    pool, base, test = planted()
    keep = np.flatnonzero((pool.labels != 2) | (np.arange(len(pool)) % M < 4))  # class C: 4 pool videos
    from gesturebench.evaluators.fewshot import subset

    r = fewshot_curve(subset(pool, keep), test, shots=(2, 5), repeats=2, base=[base], k=1)
    assert r.point(2).short_classes == () and r.point(5).short_classes == ("C",)
    assert r.point(5).n_sampled == (14, 14)


def test_probe_curve_reaches_one():
    rng = np.random.default_rng(1)
    centers = np.eye(K, 6) * 6
    py = np.repeat(np.arange(K), 8)
    ty = np.repeat(np.arange(K), 5)
    pool = fs(centers[py] + 0.5 * rng.normal(size=(24, 6)), py, "target", "pool")
    test = fs(centers[ty] + 0.5 * rng.normal(size=(15, 6)), ty, "target", "test")
    r = fewshot_curve(pool, test, shots=(1, 4), repeats=2, method="probe", seed=2, device="cpu")
    assert [p.shots for p in r.points] == [1, 4]  # no base: no 0-shot point
    assert r.point(4).accuracies == (1.0, 1.0)
    assert r.settings["method"] == "probe" and r.settings["C"] == "auto"
    assert r.settings["C_chosen"]["1"] == [1.0, 1.0]  # one video per class: no validation split, fallback C


def test_probe_points_agree_with_independent_sklearn_fits():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(4)
    centers = rng.normal(size=(K, 10)) * 1.2
    py = np.repeat(np.arange(K), 12)
    ty = np.repeat(np.arange(K), 20)
    pool = fs(centers[py] + rng.normal(size=(36, 10)), py, "target", "pool")
    test = fs(centers[ty] + rng.normal(size=(60, 10)), ty, "target", "test")
    r = fewshot_curve(pool, test, shots=(1, 6), repeats=2, method="probe", seed=5)
    for s in (1, 6):
        for rep in range(2):
            rows, _ = sample_shots(pool.labels, K, s, 5, rep)
            c = r.settings["C_chosen"][str(s)][rep]
            ref = make_pipeline(StandardScaler(), LogisticRegression(C=c)).fit(pool.features[rows], pool.labels[rows])
            assert r.point(s).accuracies[rep] == pytest.approx(np.mean(ref.predict(test.features) == ty))
    assert r.settings["C_chosen"]["1"] == [1.0, 1.0]
    assert all(c != 1.0 for c in r.settings["C_chosen"]["6"])  # six per class: chosen on a validation split


def test_t_interval_exact():
    lo, hi = t_interval([0.5, 0.6, 0.7])
    half = 4.302652729911275 * 0.1 / np.sqrt(3)  # t_{0.975, 2}
    assert lo == pytest.approx(0.6 - half) and hi == pytest.approx(0.6 + half)
    assert t_interval([0.4]) is None


def test_errors():
    pool, base, test = planted()
    with pytest.raises(ConfigError, match=r"^shots must be integers >= 1 \(e.g. 1,2,5,10\); got 0$"):
        fewshot_curve(pool, test, shots=(0, 1))
    with pytest.raises(ConfigError, match=r"^--shots must be integers >= 1 \(e.g. 1,2,5,10\); got 'x'$"):
        parse_shots("1,x", "--shots")
    assert parse_shots("10, 2,2,1") == (1, 2, 10)
    with pytest.raises(ConfigError, match=r"^method must be one of knn, probe; got 'svm'$"):
        fewshot_curve(pool, test, method="svm")
    with pytest.raises(ConfigError, match=r"^repeats must be"):
        fewshot_curve(pool, test, repeats=0)
    with pytest.raises(EvaluationError, match=r"^k=5 exceeds the 3 training videos at 1 shot\(s\)"):
        fewshot_curve(pool, test, shots=(1,), k=5)
    same = fs(test.features, test.labels, "target", "pool2", prefix="test")
    with pytest.raises(EvaluationError, match=r"^30 pool videos are also test videos"):
        fewshot_curve(same, test)


def _one(folder, pattern):
    """The single file matching ``pattern`` (the settings hash is the ``*``)."""
    found = sorted(folder.glob(pattern))
    assert len(found) == 1, (pattern, [p.name for p in folder.iterdir()])
    return found[0]


def test_fewshot_cli(tmp_path, capsys, monkeypatch):
    pool, base, test = planted()
    stores = {"pool": pool, "syn": base, "test": test}
    monkeypatch.setattr("gesturebench.api.common.load_set", lambda p: stores[Path(p).name])
    rc = main(["fewshot", "--pool", "pool", "--test", "test", "--base", "syn", "--shots", "1,10", "--repeats", "2",
               "-k", "1", "--out", str(tmp_path), "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0, out
    with_base = _one(tmp_path, "fewshot__toy__base-synthetic.syn__pool-target.pool__test-target.test__knn-k1__s-*.json")
    pool_only = _one(tmp_path, "fewshot__toy__base-none__pool-target.pool__test-target.test__knn-k1__s-*.json")
    png = with_base.with_suffix(".png")
    for p in (with_base, pool_only, png):
        assert f"wrote {p}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    doc = json.loads(with_base.read_text())
    assert [c["mean_accuracy"] for c in doc["curve"]] == pytest.approx([0.0, 0.1, 1.0])
    assert doc["schema"] == "gesturebench.result/1" and doc["task"] == "fewshot"
    assert main(["fewshot", "--pool", "pool", "--test", "test", "--shots", "0"]) == 1
    assert capsys.readouterr().err.strip() == "error: --shots must be integers >= 1 (e.g. 1,2,5,10); got '0'"
    assert main(["fewshot", "--pool", "pool", "--test", "test", "--method", "svm"]) == 1
    assert capsys.readouterr().err.strip() == "error: --method must be one of knn, probe; got 'svm'"
