"""Linear probe: agreement with scikit-learn, planted answers, train-only standardisation, files, CLI."""

from __future__ import annotations

import re

from pathlib import Path

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from gesturebench.cli import main
from gesturebench.errors import ConfigError, EvaluationError
from gesturebench.evaluators.probe import ProbeResult, class_weights, evaluate_probe, fit_probe, write_probe_result
from gesturebench.evaluators.results import validate_document
from gesturebench.types import FeatureSet


def fs(x, y, domain, key, classes=("A", "B", "C", "D"), encoder="toy"):
    x = np.asarray(x, np.float32)
    x = x.reshape(len(y), -1)
    n = len(y)
    return FeatureSet(x, np.asarray(y), tuple(f"{domain}/{key}/{i}" for i in range(n)), classes,
                      (domain,) * n, ("ground",) * n, key=key, meta={"encoder": {"name": encoder}})


def blobs(seed, n=240, d=16, k=4, spread=1.5, offset=0.0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    scales = rng.uniform(0.5, 20.0, d)  # unequal column scales: standardisation matters
    y = rng.integers(0, k, n)
    x = (centers[y] + spread * rng.normal(size=(n, d))) * scales + offset
    yt = rng.integers(0, k, 150)
    xt = (centers[yt] + spread * rng.normal(size=(150, d))) * scales + offset
    return x.astype(np.float32), y, xt.astype(np.float32), yt


def sklearn_fit(x, y, wd, balanced=False):
    m, s = x.astype(np.float64).mean(0), x.astype(np.float64).std(0)
    clf = LogisticRegression(C=1.0 / (len(y) * wd), max_iter=10000, tol=1e-10,
                             class_weight="balanced" if balanced else None)
    clf.fit((x - m) / s, y)
    return clf, m, s


@pytest.mark.parametrize("seed,wd,balanced", [(0, 1e-3, False), (1, 1e-2, False), (2, 1e-4, False), (3, 1e-3, True)])
def test_matches_sklearn_logistic_regression(seed, wd, balanced):
    x, y, xt, yt = blobs(seed)
    if balanced:  # make the classes unequal so the weights change the optimum
        keep = (y != 0) | (np.arange(len(y)) % 4 == 0)
        x, y = x[keep], y[keep]
    fit = fit_probe(x, y, 4, weight_decay=wd, class_balanced=balanced, device="cpu")
    clf, m, s = sklearn_fit(x, y, wd, balanced)
    ours = fit.predict(xt)
    theirs = clf.predict((xt - m) / s)
    assert np.mean(ours == theirs) >= 0.95
    assert abs(np.mean(ours == yt) - np.mean(theirs == yt)) <= 0.02
    assert fit.converged
    # same optimum: weights agree closely (float32 vs float64 solver)
    np.testing.assert_allclose(fit.weight, clf.coef_.T, atol=0.02 * np.abs(clf.coef_).max())


def test_class_weights_are_sklearn_balanced():
    y = np.array([0, 0, 0, 1, 2, 2])
    # n / (K_present * n_c); class 3 absent -> 0
    np.testing.assert_allclose(class_weights(y, 4), [6 / 9, 6 / 3, 6 / 6, 0.0])


def test_planted_separable_reaches_100_percent():
    rng = np.random.default_rng(5)
    k, d = 4, 8
    y = np.repeat(np.arange(k), 10)
    x = np.eye(k, d)[y] * 5 + 0.3 * rng.normal(size=(40, d))
    yt = np.repeat(np.arange(k), 6)
    xt = np.eye(k, d)[yt] * 5 + 0.3 * rng.normal(size=(24, d))
    r = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), bootstrap=0, device="cpu")
    assert isinstance(r, ProbeResult)
    assert r.accuracy == 1.0 and r.train_accuracy == 1.0
    assert 0 < r.iterations < 200 and r.converged
    assert r.confusion == tuple(tuple(6 if i == j else 0 for j in range(k)) for i in range(k))
    assert r.ci is None


def test_standardises_with_training_statistics_only():
    x, y, xt, yt = blobs(7, offset=100.0)
    fit = fit_probe(x, y, 4, device="cpu")
    np.testing.assert_allclose(fit.mean, x.astype(np.float64).mean(0).astype(np.float32))
    np.testing.assert_allclose(fit.scale, x.astype(np.float64).std(0).astype(np.float32))
    train = fs(x, y, "synthetic", "tr")
    # a test point's prediction does not depend on the other test points (no test statistics)
    full = evaluate_probe(train, fs(xt, yt, "target", "te"), bootstrap=0, device="cpu")
    part = evaluate_probe(train, fs(xt[:5] * 3 + 50, yt[:5], "target", "te5"), bootstrap=0, device="cpu")
    alone = evaluate_probe(train, fs(xt[:5], yt[:5], "target", "te5"), bootstrap=0, device="cpu")
    assert [p["pred"] for p in alone.predictions] == [p["pred"] for p in full.predictions[:5]]
    assert [p["pred"] for p in part.predictions] == list(fit.predict(xt[:5] * 3 + 50))


def test_constant_column_and_no_standardize():
    x, y, xt, _ = blobs(8, d=6)
    x[:, 2] = 7.0
    fit = fit_probe(x, y, 4, device="cpu")
    assert fit.scale[2] == 1.0 and np.isfinite(fit.weight).all()
    raw = fit_probe(x, y, 4, standardize=False, device="cpu")
    assert (raw.mean == 0).all() and (raw.scale == 1).all()


def test_deterministic():
    x, y, xt, yt = blobs(9)
    a = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), bootstrap=100, seed=3, device="cpu")
    b = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), bootstrap=100, seed=3, device="cpu")
    assert a.to_dict() == b.to_dict()


def test_result_document_and_file(tmp_path):
    x, y, xt, yt = blobs(10)
    syn, tgt = fs(x[:120], y[:120], "synthetic", "ks"), fs(x[120:], y[120:], "target", "kt")
    r = evaluate_probe([syn, tgt], fs(xt, yt, "target", "kte"), weight_decay=1e-3, bootstrap=200, device="cpu")
    d = r.to_dict()
    assert d["task"] == "probe" and d["encoder"] == "toy"
    assert d["train"] == {"keys": ["ks", "kt"], "source": "synthetic+target", "n": 240,
                          "n_per_domain": {"synthetic": 120, "target": 120}}
    assert d["settings"]["sklearn_C"] == pytest.approx(1 / (240 * 1e-3))
    assert d["metrics"]["ci"][0] <= d["metrics"]["accuracy"] <= d["metrics"]["ci"][1]
    assert sum(map(sum, d["confusion"])) == 150
    path = write_probe_result(r, tmp_path)
    assert re.fullmatch(r"probe__toy__train-synthetic\+target\.ks\.kt__test-target\.kte__wd0\.001__s-[0-9a-f]{8}\.json",
                        path.name)
    doc = json.loads(path.read_text())
    assert doc["schema"] == "gesturebench.result/1" and "provenance" in doc
    # same shape as a k-NN result: valid under every rule except the task name
    assert validate_document({**doc, "task": "knn", "settings": {**doc["settings"], "k": 0, "metric": ""}}) is None


def test_errors():
    x, y, xt, yt = blobs(11)
    train, test = fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te")
    with pytest.raises(ConfigError, match=r"^weight_decay must be a finite number >= 0; got -1$"):
        evaluate_probe(train, test, weight_decay=-1, device="cpu")
    with pytest.raises(ConfigError, match=r"^epochs must be"):
        evaluate_probe(train, test, epochs=0, device="cpu")
    with pytest.raises(ConfigError, match=r"^bootstrap must be an integer >= 0; got -5$"):
        evaluate_probe(train, test, bootstrap=-5, device="cpu")
    other = fs(xt[:, :3], yt, "target", "te3")
    with pytest.raises(EvaluationError, match="test feature dimension 3 differs from training dimension 16"):
        evaluate_probe(train, other, device="cpu")
    bad = x.copy()
    bad[0, 0] = np.nan
    with pytest.raises(EvaluationError, match="NaN"):
        evaluate_probe(fs(bad, y, "synthetic", "tr"), test, device="cpu")


# --------------------------------------------------------------------------- CLI

def _stores():
    x, y, xt, yt = blobs(12, n=80, d=4)
    return {"syn": fs(x, y, "synthetic", "ksyn"), "test": fs(xt, yt, "target", "ktest"),
            "pool": fs(xt[:40] + 0.01, yt[:40], "target", "kpool")}


def test_probe_cli(tmp_path, capsys, monkeypatch):
    stores = _stores()
    monkeypatch.setattr("gesturebench.api.common.load_set", lambda p: stores[Path(p).name])
    rc = main(["probe", "--train", "syn", "--test", "test", "--out", str(tmp_path), "--weight-decay", "0.001",
               "--bootstrap", "20", "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0
    (path,) = tmp_path.glob("probe__toy__train-synthetic.ksyn__test-target.ktest__wd0.001__s-*.json")
    assert f"wrote {path}" in out and "linear probe" in out
    doc = json.loads(path.read_text())
    assert f"{100 * doc['metrics']['accuracy']:.1f}" in out
    assert main(["probe", "--train", "syn", "--test", "test", "--weight-decay", "-1"]) == 1
    assert capsys.readouterr().err.strip() == "error: --weight-decay must be a finite number >= 0; got -1.0"
    assert main(["probe", "--train", "syn", "--test", "test", "--epochs", "0"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: --epochs must be")
