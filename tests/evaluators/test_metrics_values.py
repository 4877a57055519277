"""metrics: exact values on hand-computed examples."""

from __future__ import annotations

import numpy as np
import pytest

from gesturebench.errors import EvaluationError
from gesturebench.evaluators import metrics as M

Y_TRUE = [0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
Y_PRED = [0, 0, 1, 2, 1, 0, 2, 2, 2, 2]


def test_accuracy_and_per_class():
    assert M.accuracy(Y_TRUE, Y_PRED) == 0.7
    # class 3 is absent from y_true -> None, and excluded from the mean
    assert M.per_class_accuracy(Y_TRUE, Y_PRED, 4) == [0.5, 0.5, 1.0, None]
    assert M.mean_per_class_accuracy(Y_TRUE, Y_PRED, 4) == pytest.approx(2.0 / 3.0, abs=1e-15)


def test_confusion_rows_true_cols_pred_over_full_class_list():
    cm = M.confusion_matrix(Y_TRUE, Y_PRED, 4)
    assert cm.tolist() == [[2, 1, 1, 0], [1, 1, 0, 0], [0, 0, 4, 0], [0, 0, 0, 0]]
    assert cm.sum() == 10


def test_confusion_rejects_out_of_range_labels():
    with pytest.raises(EvaluationError, match=r"^y_pred labels must lie in 0\.\.2; got 0\.\.3$"):
        M.confusion_matrix([0, 1], [0, 3], 3)


def test_chance_level():
    assert M.chance_level(7) == 1 / 7
    assert round(100 * M.chance_level(7), 1) == 14.3


def test_bootstrap_ci_follows_documented_procedure():
    correct = np.array([1, 0, 1, 1, 0, 1, 1, 1, 0, 1], bool)
    lo, hi = M.bootstrap_ci(correct, 1000, seed=5)
    rng = np.random.default_rng(5)
    accs = correct[rng.integers(0, 10, (1000, 10))].mean(1)
    assert (lo, hi) == tuple(np.percentile(accs, [2.5, 97.5]))
    assert lo <= 0.7 <= hi and lo < hi
    assert M.bootstrap_ci(correct, 1000, seed=5) == (lo, hi)  # deterministic per seed


def test_bootstrap_degenerate_and_disabled():
    assert M.bootstrap_ci(np.ones(8, bool), 200) == (1.0, 1.0)
    lo, hi = M.bootstrap_ci(np.ones(8, bool), 0)
    assert np.isnan(lo) and np.isnan(hi)
    with pytest.raises(EvaluationError, match="non-empty"):
        M.bootstrap_ci(np.zeros(0, bool))


def test_summary_collects_everything():
    s = M.classification_summary(Y_TRUE, Y_PRED, 4, bootstrap=100, seed=0)
    # chance from the classes present in y_true (3 of the 4 in the class list)
    assert s["accuracy"] == 0.7 and s["n"] == 10 and s["chance"] == pytest.approx(1 / len(set(Y_TRUE)))
    assert s["confusion"][2] == [0, 0, 4, 0]
    assert s["ci"] == list(M.bootstrap_ci(np.array(Y_TRUE) == np.array(Y_PRED), 100, 0))
