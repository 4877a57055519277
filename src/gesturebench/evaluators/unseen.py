"""The unseen-class protocol's pure parts: folds, one fold's k-NN scores, the paired summary.

Per fold, some classes are held out (unseen). An embedding (the frozen
encoder's, or one trained on the seen classes only) classifies each test
video of an unseen class by k-NN (K=3, L2) against *support* videos of the
unseen classes only, and each test video of a seen class by k-NN against the
training videos of the seen classes. Both embeddings score the same test
videos, so their difference is paired: the summary bootstraps test videos
pooled across folds and resamples the same rows for both.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, EvaluationError

#: all C(n, k) splits are used when there are at most this many
MAX_ALL_SPLITS = 35


def make_folds(
    class_names: Sequence[str], unseen: int, folds: int = 5, split: Sequence[str] | None = None, seed: int = 0
) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """``[(unseen classes, seen classes)]`` in class-list order.

    ``split`` names the unseen classes of one fold; otherwise every split when
    C(n, unseen) <= 35, else ``folds`` distinct splits drawn with ``seed``.
    """
    names = tuple(class_names)
    n = len(names)
    if split is not None:
        chosen = tuple(s.strip() for s in split if s.strip())
        unknown = [c for c in chosen if c not in names]
        if unknown:
            raise ConfigError(f"unknown class {unknown[0]!r} in --split; allowed: {', '.join(names)}")
        if len(set(chosen)) != len(chosen):
            raise ConfigError(f"--split names a class twice: {', '.join(chosen)}")
        if not 1 <= len(chosen) < n:
            raise ConfigError(f"--split must name between 1 and {n - 1} classes; got {len(chosen)}")
        combos = [tuple(c for c in names if c in chosen)]
    else:
        if isinstance(unseen, bool) or not isinstance(unseen, int) or not 1 <= unseen < n:
            raise ConfigError(
                f"--unseen-classes must be at least 1 and below the number of classes ({n}); got {unseen!r}"
            )
        total = math.comb(n, unseen)
        every = list(itertools.combinations(names, unseen))
        if total <= MAX_ALL_SPLITS:
            combos = every
        else:
            if isinstance(folds, bool) or not isinstance(folds, int) or folds < 1:
                raise ConfigError(f"--folds must be an integer >= 1; got {folds!r}")
            rng = np.random.default_rng([seed, n, unseen])
            pick = rng.choice(total, size=min(folds, total), replace=False)
            combos = [every[i] for i in sorted(pick.tolist())]
    return [(u, tuple(c for c in names if c not in u)) for u in combos]


def fold_name(unseen: Sequence[str]) -> str:
    return "unseen-" + "+".join(unseen)


def knn_correct(support_x, support_y, test_x, test_y, k: int = 3) -> np.ndarray:
    """Per test row: is the k-NN (L2, majority vote, the project's tie rule) label right?"""
    from .knn import knn_predict

    if len(support_y) == 0 or len(test_y) == 0:
        raise EvaluationError("k-NN needs at least one support and one test row")
    pred, _, _ = knn_predict(np.asarray(support_x, np.float32), np.asarray(support_y), np.asarray(test_x, np.float32),
                             k=min(k, len(support_y)), metric="l2")
    return pred == np.asarray(test_y)


@dataclass(frozen=True)
class FoldScore:
    """One embedding on one fold: per-test-video outcomes (test-list order)."""

    unseen_correct: np.ndarray  # bool (n_test_unseen,)
    seen_correct: np.ndarray  # bool (n_test_seen,)

    @property
    def unseen_accuracy(self) -> float:
        return float(self.unseen_correct.mean())

    @property
    def seen_accuracy(self) -> float | None:
        return float(self.seen_correct.mean()) if self.seen_correct.size else None

    def to_dict(self) -> dict[str, Any]:
        return {"unseen_accuracy": self.unseen_accuracy, "seen_accuracy": self.seen_accuracy}


def score_fold(emb_support, y_support, emb_train_seen, y_train_seen, emb_test, y_test, unseen_labels, k: int = 3) -> FoldScore:
    """k-NN of unseen-class test rows against support, and of seen-class test rows against seen training rows."""
    y_test = np.asarray(y_test)
    is_unseen = np.isin(y_test, list(unseen_labels))
    unseen = knn_correct(emb_support, y_support, emb_test[is_unseen], y_test[is_unseen], k)
    seen = (knn_correct(emb_train_seen, y_train_seen, emb_test[~is_unseen], y_test[~is_unseen], k)
            if (~is_unseen).any() else np.zeros(0, bool))
    return FoldScore(unseen, seen)


def paired_bootstrap(a: np.ndarray, b: np.ndarray, n_resamples: int = 1000, seed: int = 0,
                     confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Mean of ``b - a`` (per-item outcomes, same items) and its percentile bootstrap interval."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape or a.ndim != 1 or a.size == 0:
        raise EvaluationError(f"paired bootstrap needs two equal, non-empty 1-D arrays; got {a.shape} and {b.shape}")
    d = b - a
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, d.size, (n_resamples, d.size))
    means = d[idx].mean(1)
    lo, hi = np.percentile(means, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    return float(d.mean()), (float(lo), float(hi))


def _side(scores: list[FoldScore], seed: int) -> dict[str, Any]:
    from .metrics import bootstrap_ci

    u = np.concatenate([s.unseen_correct for s in scores])
    seen = np.concatenate([s.seen_correct for s in scores])
    return {
        "unseen_accuracy": float(u.mean()),
        "unseen_ci": list(bootstrap_ci(u, 1000, seed)),
        "unseen_accuracy_fold_mean": float(np.mean([s.unseen_accuracy for s in scores])),
        "seen_accuracy": float(seen.mean()) if seen.size else None,
        "seen_ci": list(bootstrap_ci(seen, 1000, seed)) if seen.size else None,
    }


def summarize(frozen: list[FoldScore], finetuned: list[FoldScore], unseen_per_fold: int, seed: int = 0) -> dict[str, Any]:
    """``{frozen, finetuned, difference: {mean, ci}, chance_unseen, ...}`` over test videos pooled across folds.

    Accuracies are pooled (every fold's unseen-class test videos together);
    ``difference`` is fine-tuned minus frozen unseen-class accuracy, its CI a
    paired bootstrap over the pooled test videos (1000 resamples, 95%).
    """
    if not frozen or len(frozen) != len(finetuned):
        raise EvaluationError(f"need the same, non-zero number of folds for both; got {len(frozen)} and {len(finetuned)}")
    a = np.concatenate([s.unseen_correct for s in frozen])
    b = np.concatenate([s.unseen_correct for s in finetuned])
    mean, ci = paired_bootstrap(a, b, seed=seed)
    sa = np.concatenate([s.seen_correct for s in frozen])
    sb = np.concatenate([s.seen_correct for s in finetuned])
    seen_diff = None
    if sa.size:
        m, c = paired_bootstrap(sa, sb, seed=seed)
        seen_diff = {"mean": m, "ci": list(c)}
    return {
        "frozen": _side(frozen, seed),
        "finetuned": _side(finetuned, seed),
        "difference": {"mean": mean, "ci": list(ci)},
        "seen_difference": seen_diff,
        "chance_unseen": 1.0 / unseen_per_fold,
        "n_folds": len(frozen),
        "n_test_unseen_pooled": int(a.size),
        "bootstrap": {"resamples": 1000, "confidence": 0.95, "seed": seed, "paired": True, "pooled_over_folds": True},
    }
