"""Classification metrics on label arrays (numpy; no torch needed).

All functions take integer labels in ``0..num_classes-1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import ConfigError, EvaluationError, check_positive_int


def _labels(y: Any, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise EvaluationError(f"{name} must be 1-D; got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise EvaluationError(f"{name} must be integers; got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise EvaluationError(f"y_true has {t.size} labels but y_pred has {p.size}")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """Top-1 accuracy in [0, 1]; raises on empty input."""
    t, p = _pair(y_true, y_pred)
    if t.size == 0:
        raise EvaluationError("accuracy of an empty set is undefined")
    return float(np.mean(t == p))


def per_class_accuracy(y_true: Any, y_pred: Any, num_classes: int) -> list[float | None]:
    """Recall of each class; ``None`` for classes absent from ``y_true``."""
    t, p = _pair(y_true, y_pred)
    out: list[float | None] = []
    for c in range(num_classes):
        sel = t == c
        out.append(float(np.mean(p[sel] == c)) if sel.any() else None)
    return out


def mean_per_class_accuracy(y_true: Any, y_pred: Any, num_classes: int) -> float:
    """Mean of per-class accuracies over the classes present in ``y_true``."""
    vals = [v for v in per_class_accuracy(y_true, y_pred, num_classes) if v is not None]
    if not vals:
        raise EvaluationError("mean per-class accuracy of an empty set is undefined")
    return float(np.mean(vals))


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int) -> np.ndarray:
    """Counts (num_classes, num_classes): rows = true class, columns = predicted class."""
    t, p = _pair(y_true, y_pred)
    check_positive_int("num_classes", num_classes)
    for name, arr in (("y_true", t), ("y_pred", p)):
        if arr.size and (arr.min() < 0 or arr.max() >= num_classes):
            raise EvaluationError(
                f"{name} labels must lie in 0..{num_classes - 1}; got {int(arr.min())}..{int(arr.max())}"
            )
    cm = np.zeros((num_classes, num_classes), np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


#: most bootstrap resamples (1000 already gives a stable 95% interval; 1e9 would run for hours)
MAX_BOOTSTRAP = 100_000


def check_bootstrap(n: Any) -> int:
    """``n`` if it is an integer in [0, MAX_BOOTSTRAP], else :class:`ConfigError` naming the bound."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ConfigError(f"bootstrap must be an integer >= 0; got {n!r}")
    if n > MAX_BOOTSTRAP:
        raise ConfigError(
            f"--bootstrap {n} is above the limit of {MAX_BOOTSTRAP} resamples "
            "(1000 gives a stable 95% interval; the cost grows with resamples x test videos)"
        )
    return n


def bootstrap_ci(
    correct: Any, n_resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of accuracy.

    ``correct`` is a boolean per test item. Resampling is exactly:
    ``rng = np.random.default_rng(seed)``; ``idx = rng.integers(0, n, (n_resamples, n))``;
    accuracies ``correct[idx].mean(1)``; bounds ``np.percentile`` (linear) at
    ``100 * (1 - confidence) / 2`` and ``100 * (1 + confidence) / 2``. (When
    ``n * n_resamples`` exceeds 2**22 the index array is drawn in row blocks.)
    ``n_resamples = 0`` returns ``(nan, nan)`` (no interval requested).
    """
    ok = np.asarray(correct, dtype=bool)
    if ok.ndim != 1 or ok.size == 0:
        raise EvaluationError(f"bootstrap needs a non-empty 1-D array of outcomes; got shape {ok.shape}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int) or n_resamples < 0:
        raise EvaluationError(f"bootstrap resamples must be an integer >= 0; got {n_resamples!r}")
    check_bootstrap(n_resamples)
    if not 0.0 < confidence < 1.0:
        raise EvaluationError(f"confidence must lie strictly between 0 and 1; got {confidence!r}")
    if n_resamples == 0:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    n = ok.size
    accs = np.empty(n_resamples, np.float64)
    step = max(1, (1 << 22) // n)  # bound memory for large test sets
    for s in range(0, n_resamples, step):
        m = min(step, n_resamples - s)
        accs[s : s + m] = ok[rng.integers(0, n, (m, n))].mean(1)
    lo, hi = np.percentile(accs, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
    return float(lo), float(hi)


def chance_level(num_classes: int) -> float:
    """Accuracy of uniform guessing: ``1 / num_classes``."""
    check_positive_int("num_classes", num_classes)
    return 1.0 / num_classes


def classification_summary(
    y_true: Any, y_pred: Any, num_classes: int, *, bootstrap: int = 1000, seed: int = 0, confidence: float = 0.95
) -> dict[str, Any]:
    """Every metric a result file records, as plain JSON-able values."""
    t, p = _pair(y_true, y_pred)
    lo, hi = bootstrap_ci(t == p, bootstrap, seed, confidence)
    return {
        "accuracy": accuracy(t, p),
        "mean_per_class_accuracy": mean_per_class_accuracy(t, p, num_classes),
        "per_class_accuracy": per_class_accuracy(t, p, num_classes),
        "ci": [lo, hi] if bootstrap else None,
        "ci_confidence": confidence,
        # chance from the classes actually present in the test set, not the class list
        "chance": chance_level(len(np.unique(t))) if t.size else chance_level(num_classes),
        "confusion": confusion_matrix(t, p, num_classes).tolist(),
        "n": int(t.size),
    }


@dataclass(frozen=True)
class ClassificationDocument:
    """Fields and result-file body shared by every classification result (k-NN, probe, zero-shot).

    Subclasses are frozen dataclasses that add their own fields after these
    (supervised ones: ``train_keys``, ``train_source``, ``n_train_per_domain``),
    then ``test_key``, ``test_source``, ``predictions`` and ``task``; they add
    metrics through :meth:`extra_metrics` and may override :meth:`train_document`.
    """

    encoder: str
    settings: dict[str, Any]
    class_names: tuple[str, ...]
    accuracy: float
    mean_per_class_accuracy: float
    per_class_accuracy: tuple[float | None, ...]
    ci: tuple[float, float] | None
    chance: float
    confusion: tuple[tuple[int, ...], ...]

    @property
    def n_test(self) -> int:
        return len(self.predictions)  # type: ignore[attr-defined]

    @property
    def n_train(self) -> int:
        return sum(self.n_train_per_domain.values())  # type: ignore[attr-defined]

    def train_document(self) -> dict[str, Any]:
        return {
            "keys": list(self.train_keys),  # type: ignore[attr-defined]
            "source": self.train_source,  # type: ignore[attr-defined]
            "n": self.n_train,
            "n_per_domain": dict(self.n_train_per_domain),  # type: ignore[attr-defined]
        }

    def extra_metrics(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        s: Any = self
        return {
            "task": s.task,
            "encoder": s.encoder,
            "settings": dict(s.settings),
            "class_names": list(s.class_names),
            "train": self.train_document(),
            "test": {"key": s.test_key, "source": s.test_source, "n": self.n_test},
            "metrics": {
                "accuracy": s.accuracy,
                "mean_per_class_accuracy": s.mean_per_class_accuracy,
                "per_class_accuracy": list(s.per_class_accuracy),
                "ci": list(s.ci) if s.ci is not None else None,
                "chance": s.chance,
                **self.extra_metrics(),
            },
            "confusion": [list(r) for r in s.confusion],
            "predictions": [dict(p) for p in s.predictions],
        }
