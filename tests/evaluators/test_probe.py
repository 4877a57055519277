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


def sklearn_pipeline(x, y, c, balanced=False):
    """An independent fit: scikit-learn's own StandardScaler + LogisticRegression."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=5000,
                                                             class_weight="balanced" if balanced else None)).fit(x, y)


@pytest.mark.parametrize("seed,c,balanced", [(0, 1.0, False), (1, 0.01, False), (2, 10.0, False), (3, 0.5, True)])
def test_matches_an_independent_sklearn_pipeline(seed, c, balanced):
    x, y, xt, yt = blobs(seed)
    if balanced:  # make the classes unequal so the weights change the optimum
        keep = (y != 0) | (np.arange(len(y)) % 4 == 0)
        x, y = x[keep], y[keep]
    fit = fit_probe(x, y, 4, C=c, class_balanced=balanced)
    ref = sklearn_pipeline(x, y, c, balanced)
    assert fit.C == c and fit.c_source == "given" and fit.converged
    np.testing.assert_array_equal(fit.predict(xt), ref.predict(xt))
    np.testing.assert_allclose(fit.predict_proba(xt), ref.predict_proba(xt), atol=1e-4)


def test_weight_decay_is_the_same_objective_as_c():
    x, y, xt, yt = blobs(4)
    a = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), weight_decay=1e-3, bootstrap=0)
    b = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), C=1 / (240 * 1e-3), bootstrap=0)
    assert a.settings["C_chosen"] == pytest.approx(b.settings["C_chosen"])
    assert [p["pred"] for p in a.predictions] == [p["pred"] for p in b.predictions]
    assert a.settings["regularisation"] == "wd0.001" and b.settings["regularisation"] == f"C{1 / (240 * 1e-3)!r}"


def test_class_weights_are_sklearn_balanced():
    y = np.array([0, 0, 0, 1, 2, 2])
    # n / (K_present * n_c); class 3 absent -> 0
    np.testing.assert_allclose(class_weights(y, 4), [6 / 9, 6 / 3, 6 / 6, 0.0])


def _planted(seed=0, n=80, noise_dims=40, k=4):
    """Class c raises feature c; 40 noise columns: too little C underfits, the search must find more."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    x = np.concatenate([np.eye(k)[y] * 3.0 + 0.5 * rng.normal(size=(n, k)), rng.normal(size=(n, noise_dims))], 1)
    return x.astype(np.float32), y


def test_c_search_agrees_with_an_independent_search_over_the_same_grid():
    from gesturebench.evaluators.probe import C_GRID, validation_split

    x, y = _planted()
    fit = fit_probe(x, y, 4)
    assert fit.c_source == "validation"
    trail = fit.c_search
    # the coarse pass visits every 16th grid value first, as CLIP_benchmark's sweep
    assert [t["C"] for t in trail[:7]] == [C_GRID[i] for i in range(0, 97, 16)]
    assert len({t["C"] for t in trail}) == len(trail) <= 7 + 8
    tr, va = validation_split(y, 0.2, 0)
    assert len(va) == 16 and sorted(np.bincount(y[va]).tolist()) == [4, 4, 4, 4]
    indep = {}
    for t in trail:
        ref = sklearn_pipeline(x[tr], y[tr], t["C"])
        indep[t["C"]] = (float(np.mean(ref.predict(x[va]) == y[va])), t["C"])
        assert t["val_accuracy"] == pytest.approx(indep[t["C"]][0])
    best_acc = max(a for a, _ in indep.values())
    assert best_acc == 1.0 and fit.C in [c for c, (a, _) in indep.items() if a == best_acc]
    assert indep[C_GRID[0]][0] < best_acc and fit.C > C_GRID[0]  # the smallest C underfits: the search matters
    # the choice: best accuracy, then lowest validation log-loss
    lowest = min((t for t in trail if t["val_accuracy"] == best_acc), key=lambda t: (t["val_log_loss"], t["C"]))
    assert fit.C == lowest["C"]


def test_c_search_falls_back_when_a_class_has_one_row():
    x, y = _planted(n=8)
    y = y.copy()
    y[y == 3] = 2
    y[0] = 3  # class 3: one row
    fit = fit_probe(x, y, 4)
    assert fit.C == 1.0 and fit.c_source.startswith("fallback: a class has fewer than 2 training rows")
    assert fit.c_search == ()


def test_absent_and_binary_classes():
    x, y, xt, yt = blobs(5)
    keep = y < 3
    fit = fit_probe(x[keep], y[keep], 4, C=1.0)
    assert fit.bias[3] == -np.inf and (fit.predict(xt) < 3).all() and (fit.predict_proba(xt)[:, 3] == 0).all()
    np.testing.assert_array_equal(fit.predict(xt), sklearn_pipeline(x[keep], y[keep], 1.0).predict(xt))
    two = (y == 1) | (y == 3)
    fit2 = fit_probe(x[two], y[two], 4, C=1.0)
    ref = sklearn_pipeline(x[two], y[two], 1.0)
    np.testing.assert_array_equal(fit2.predict(xt), ref.predict(xt))
    np.testing.assert_allclose(fit2.predict_proba(xt)[:, [1, 3]], ref.predict_proba(xt), atol=2e-3)
    one = fit_probe(x[y == 2], y[y == 2], 4)
    assert (one.predict(xt) == 2).all()


def test_planted_separable_reaches_100_percent():
    rng = np.random.default_rng(5)
    k, d = 4, 8
    y = np.repeat(np.arange(k), 10)
    x = np.eye(k, d)[y] * 5 + 0.3 * rng.normal(size=(40, d))
    yt = np.repeat(np.arange(k), 6)
    xt = np.eye(k, d)[yt] * 5 + 0.3 * rng.normal(size=(24, d))
    r = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), bootstrap=0)
    assert isinstance(r, ProbeResult)
    assert r.accuracy == 1.0 and r.train_accuracy == 1.0
    assert 0 < r.iterations < 1000 and r.converged
    assert r.confusion == tuple(tuple(6 if i == j else 0 for j in range(k)) for i in range(k))
    assert r.ci is None


def test_standardises_with_training_statistics_only():
    x, y, xt, yt = blobs(7, offset=100.0)
    fit = fit_probe(x, y, 4, C=1.0)
    np.testing.assert_allclose(fit.mean, x.astype(np.float64).mean(0).astype(np.float32))
    np.testing.assert_allclose(fit.scale, x.astype(np.float64).std(0).astype(np.float32))
    train = fs(x, y, "synthetic", "tr")
    # a test point's prediction does not depend on the other test points (no test statistics)
    full = evaluate_probe(train, fs(xt, yt, "target", "te"), C=1.0, bootstrap=0)
    part = evaluate_probe(train, fs(xt[:5] * 3 + 50, yt[:5], "target", "te5"), C=1.0, bootstrap=0)
    alone = evaluate_probe(train, fs(xt[:5], yt[:5], "target", "te5"), C=1.0, bootstrap=0)
    assert [p["pred"] for p in alone.predictions] == [p["pred"] for p in full.predictions[:5]]
    assert [p["pred"] for p in part.predictions] == list(fit.predict(xt[:5] * 3 + 50))


def test_constant_column_and_no_standardize():
    x, y, xt, _ = blobs(8, d=6)
    x[:, 2] = 7.0
    fit = fit_probe(x, y, 4, C=1.0)
    assert fit.scale[2] == 1.0 and np.isfinite(fit.weight).all()
    raw = fit_probe(x, y, 4, C=1.0, standardize=False)
    assert (raw.mean == 0).all() and (raw.scale == 1).all()


def test_deterministic():
    x, y, xt, yt = blobs(9)
    a = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), bootstrap=100, seed=3)
    b = evaluate_probe(fs(x, y, "synthetic", "tr"), fs(xt, yt, "target", "te"), bootstrap=100, seed=3)
    assert a.to_dict() == b.to_dict()


def test_result_document_and_file(tmp_path):
    x, y, xt, yt = blobs(10)
    syn, tgt = fs(x[:120], y[:120], "synthetic", "ks"), fs(x[120:], y[120:], "target", "kt")
    r = evaluate_probe([syn, tgt], fs(xt, yt, "target", "kte"), weight_decay=1e-3, bootstrap=200)
    d = r.to_dict()
    assert d["task"] == "probe" and d["encoder"] == "toy"
    assert d["train"] == {"keys": ["ks", "kt"], "source": "synthetic+target", "n": 240,
                          "n_per_domain": {"synthetic": 120, "target": 120}}
    assert d["settings"]["C_chosen"] == pytest.approx(1 / (240 * 1e-3)) and d["settings"]["C_source"] == "given"
    assert d["settings"]["weight_decay"] == pytest.approx(1e-3)
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
    with pytest.raises(ConfigError, match=r"^weight_decay must be a finite number > 0; got -1$"):
        evaluate_probe(train, test, weight_decay=-1)
    with pytest.raises(ConfigError, match=r"^C must be 'auto' or a finite number > 0; got -2$"):
        evaluate_probe(train, test, C=-2)
    with pytest.raises(ConfigError, match=r"^C must be 'auto' or a finite number > 0; got 'big'$"):
        evaluate_probe(train, test, C="big")
    with pytest.raises(ConfigError, match=r"^max_iter must be"):
        evaluate_probe(train, test, max_iter=0)
    with pytest.raises(ConfigError, match=r"^epochs must be"):
        evaluate_probe(train, test, epochs=0)
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
    assert capsys.readouterr().err.strip() == "error: --weight-decay must be a finite number > 0; got -1.0"
    assert main(["probe", "--train", "syn", "--test", "test", "--max-iter", "0"]) == 1
    assert capsys.readouterr().err.strip().startswith("error: --max-iter must be")
    assert main(["probe", "--train", "syn", "--test", "test", "--C", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "error: --C must be 'auto' or a finite number > 0; got 'nope'"


def test_probe_cli_defaults_to_the_validation_search_and_keeps_epochs_as_an_alias(tmp_path, capsys, monkeypatch):
    stores = _stores()
    monkeypatch.setattr("gesturebench.api.common.load_set", lambda p: stores[Path(p).name])
    assert main(["probe", "--train", "syn", "--test", "test", "--out", str(tmp_path), "--bootstrap", "0"]) == 0
    doc = json.loads(next(tmp_path.glob("probe__toy__*__Cauto__*.json")).read_text())
    assert doc["settings"]["C"] == "auto" and doc["settings"]["C_source"] == "validation"
    assert doc["settings"]["C_chosen"] in [t["C"] for t in doc["settings"]["C_search"]]
    assert f"C={doc['settings']['C_chosen']:g} (validation)" in capsys.readouterr().out
    assert main(["probe", "--train", "syn", "--test", "test", "--out", str(tmp_path / "e"), "--epochs", "7",
                 "--C", "0.5"]) == 0
    doc = json.loads(next((tmp_path / "e").glob("probe__toy__*__C0.5__*.json")).read_text())
    assert doc["settings"]["max_iter"] == 7 and doc["settings"]["C_chosen"] == 0.5
    capsys.readouterr()
    main(["probe", "--help"])
    help_text = capsys.readouterr().out
    assert "--max-iter" in help_text and "--epochs" not in help_text  # the alias is hidden
