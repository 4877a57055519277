"""Linear probe: multinomial logistic regression on frozen features, with scikit-learn.

The classifier is ``sklearn.linear_model.LogisticRegression(solver="lbfgs")``,
which minimises ``C * sum_i w_i CE(softmax(W x_i + b), y_i) + |W|^2 / 2`` (bias
not penalised) on features standardised with the mean and standard deviation
of the rows it is fitted on (test rows reuse them; constant columns keep scale
1). ``w_i = 1`` or, with ``class_balanced=True``, scikit-learn's
``class_weight="balanced"``, ``n / (K * n_{y_i})``.

Choosing ``C`` (``C="auto"``, the default), after CLIP_benchmark's linear-probe
sweep (``clip_benchmark/metrics/linear_probe.py``: a log-spaced grid, a coarse
pass, then a search that halves its step around the best value): a seeded,
stratified validation split holds out ``val_fraction`` of each class's
training rows (at least one); ``C`` runs over ``C_GRID`` (97 values, 12 per
decade, 1e-4 .. 1e4), first every 16th value, then steps of 8, 4, 2, 1 grid
points left and right of the best so far. The best value has the highest
validation accuracy; ties go to the lower validation log-loss, then to the
smaller ``C``. The probe is then refitted on all training rows (train + val)
with that ``C``. When some class has fewer than two training rows no split is
possible: ``C = FALLBACK_C`` (scikit-learn's default) is used and the result
says so.

There is no torch path: on the CPU machines this was built on, scikit-learn's
L-BFGS fit takes ~0.1 s where our torch L-BFGS took 2.4-12.8 s on the same
63 x 1120 features (``benchmarks/probe_vs_sklearn.py``), and no GPU was
available to show a case where torch would win.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, EvaluationError, check_positive_int
from ..types import FeatureSet
from . import metrics as M
from .knn import _check_inputs, encoder_name_of, source_label

log = logging.getLogger(__name__)

#: the values C may take in the validation search (12 per decade, 1e-4 .. 1e4)
C_GRID = tuple(float(c) for c in np.logspace(-4, 4, 97))
#: C when no validation split is possible (scikit-learn's default)
FALLBACK_C = 1.0
SOLVER = "scikit-learn LogisticRegression(solver='lbfgs'), multinomial"


def _check_nonneg_float(name: str, value: Any, *, positive: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ConfigError(f"{name} must be a finite number {bound}; got {value!r}")
    return float(value)


def _check_bootstrap(bootstrap: Any) -> None:
    M.check_bootstrap(bootstrap)


def check_c(c: Any) -> float | str:
    """``"auto"`` or a finite number > 0."""
    if c == "auto":
        return "auto"
    if isinstance(c, str):
        try:
            c = float(c)
        except ValueError:
            raise ConfigError(f"C must be 'auto' or a finite number > 0; got {c!r}") from None
    ok = isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c) and c > 0
    if not ok:
        raise ConfigError(f"C must be 'auto' or a finite number > 0; got {c!r}")
    return float(c)


def regularisation_token(C: Any = "auto", weight_decay: Any = None) -> str:
    """What the caller asked for, as it names the result: ``Cauto``, ``C0.5`` or ``wd0.001`` (exact repr)."""
    if weight_decay is not None:
        return f"wd{_check_nonneg_float('weight_decay', weight_decay, positive=True)!r}"
    c = check_c(C)
    return "Cauto" if c == "auto" else f"C{c!r}"


@dataclass(frozen=True)
class ProbeFit:
    """A fitted probe: standardisation statistics and the linear layer (numpy, float32)."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    weight: np.ndarray  # (D, K)
    bias: np.ndarray  # (K,); -inf for classes absent from the training rows
    loss: float
    iterations: int
    converged: bool
    C: float = FALLBACK_C
    #: how C was set: "given", "validation" or "fallback: ..."
    c_source: str = "given"
    #: the validation search, in the order it ran: {"C", "val_accuracy", "val_log_loss"}
    c_search: tuple[dict[str, float], ...] = ()

    def logits(self, x: Any) -> np.ndarray:
        z = (np.asarray(x, np.float32) - self.mean) / self.scale
        return z @ self.weight + self.bias

    def predict(self, x: Any) -> np.ndarray:
        # argmax picks the lowest class index on exact ties
        return self.logits(x).argmax(1).astype(np.int64)

    def predict_proba(self, x: Any) -> np.ndarray:
        lg = self.logits(x).astype(np.float64)
        lg -= lg.max(1, keepdims=True)
        p = np.exp(lg)
        return p / p.sum(1, keepdims=True)


def class_weights(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """``n / (K_present * n_c)`` per class (0 for absent classes), as scikit-learn's "balanced"."""
    counts = np.bincount(labels, minlength=num_classes).astype(np.float64)
    present = counts > 0
    w = np.zeros(num_classes, np.float64)
    w[present] = labels.size / (present.sum() * counts[present])
    return w


def _standardizer(x: np.ndarray, standardize: bool) -> tuple[np.ndarray, np.ndarray]:
    d = x.shape[1]
    if not standardize:
        return np.zeros(d, np.float32), np.ones(d, np.float32)
    mean = x.astype(np.float64).mean(0)
    std = x.astype(np.float64).std(0)
    scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return mean.astype(np.float32), scale.astype(np.float32)


def _z(x: np.ndarray, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    # float32, as stored: scikit-learn then solves in float32, exactly as it would on the store's features
    return ((x - mean) / scale).astype(np.float32, copy=False)


class _Fitter:
    """One scikit-learn model, refitted from zero for each C.

    No warm starts: a fit then depends only on its C, not on the order of the search, so
    every step of the search can be repeated on its own (and was, in the tests).
    """

    def __init__(self, max_iter: int, class_balanced: bool):
        from sklearn.linear_model import LogisticRegression

        self.max_iter = max_iter
        self.clf = LogisticRegression(solver="lbfgs", max_iter=max_iter,
                                      class_weight="balanced" if class_balanced else None)

    def fit(self, z: np.ndarray, y: np.ndarray, c: float) -> tuple[Any, bool]:
        from sklearn.exceptions import ConvergenceWarning

        self.clf.set_params(C=c)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # reported through `converged`
            self.clf.fit(z, y)
        return self.clf, int(np.max(self.clf.n_iter_)) < self.max_iter


def _full_layer(clf: Any, d: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's coef_/intercept_ spread over all ``num_classes`` columns (absent ones never win)."""
    weight = np.zeros((d, num_classes), np.float32)
    bias = np.full(num_classes, -np.inf, np.float32)
    classes = clf.classes_.astype(np.int64)
    if len(classes) == 2:  # binary: one logit w.x + b for classes_[1] against 0 for classes_[0]
        weight[:, classes[1]] = clf.coef_[0]
        bias[classes] = [0.0, clf.intercept_[0]]
    else:
        weight[:, classes] = clf.coef_.T
        bias[classes] = clf.intercept_
    return weight, bias


def validation_split(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Seeded stratified (train rows, val rows), each sorted; None if a class has fewer than 2 rows."""
    counts = np.bincount(y)
    present = counts[counts > 0]
    if present.size < 2 or present.min() < 2:
        return None
    rng = np.random.default_rng([seed, 7919])
    val = []
    for c in np.flatnonzero(counts):
        rows = rng.permutation(np.flatnonzero(y == c))
        val.append(rows[: min(len(rows) - 1, max(1, int(round(val_fraction * len(rows)))))])
    v = np.sort(np.concatenate(val))
    return np.setdiff1d(np.arange(y.size), v), v


def search_c(x: np.ndarray, y: np.ndarray, *, val_fraction: float, max_iter: int, standardize: bool,
             class_balanced: bool, seed: int) -> tuple[float, tuple[dict[str, float], ...]] | None:
    """The C of the validation search (module docstring) and its trail; None if no split is possible."""
    split = validation_split(y, val_fraction, seed)
    if split is None:
        return None
    tr, va = split
    if np.unique(y[tr]).size < 2:
        return None
    mean, scale = _standardizer(x[tr], standardize)
    ztr, zva = _z(x[tr], mean, scale), _z(x[va], mean, scale)
    fitter = _Fitter(max_iter, class_balanced)
    scores: dict[int, tuple[float, float]] = {}
    trail: list[dict[str, float]] = []

    def score(i: int) -> tuple[float, float]:
        if i not in scores:
            clf, _ = fitter.fit(ztr, y[tr], C_GRID[i])
            proba = clf.predict_proba(zva)
            # every validation class also has training rows (the split leaves at least one per class)
            col = np.searchsorted(clf.classes_, y[va])
            acc = float(np.mean(clf.classes_[proba.argmax(1)] == y[va]))
            ll = float(np.mean(-np.log(np.clip(proba[np.arange(len(va)), col], 1e-15, 1.0))))
            scores[i] = (acc, ll)
            trail.append({"C": C_GRID[i], "val_accuracy": acc, "val_log_loss": ll})
        return scores[i]

    def best(indices: list[int]) -> int:
        # highest accuracy, then lowest log-loss, then the smaller C
        return min(indices, key=lambda i: (-score(i)[0], score(i)[1], i))

    peak = best(list(range(0, len(C_GRID), 16)))
    step = 8
    while step:
        peak = best(sorted({max(peak - step, 0), peak, min(peak + step, len(C_GRID) - 1)}))
        step //= 2
    return C_GRID[peak], tuple(trail)


def fit_probe(
    x: Any,
    y: Any,
    num_classes: int,
    *,
    C: float | str = "auto",
    max_iter: int = 1000,
    standardize: bool = True,
    class_balanced: bool = False,
    val_fraction: float = 0.2,
    seed: int = 0,
) -> ProbeFit:
    """Fit the probe on arrays (see the module docstring for the objective and the C search)."""
    check_positive_int("max_iter", max_iter)
    check_positive_int("num_classes", num_classes)
    c = check_c(C)
    val_fraction = _check_nonneg_float("val_fraction", val_fraction, positive=True)
    if val_fraction >= 1:
        raise ConfigError(f"val_fraction must be in (0, 1); got {val_fraction!r}")
    xn = np.asarray(x, np.float32)
    yn = np.asarray(y).astype(np.int64)
    if xn.ndim != 2 or yn.ndim != 1 or xn.shape[0] != yn.shape[0]:
        raise EvaluationError(f"need features (N, D) and N labels; got {xn.shape} and {yn.shape}")
    if xn.shape[0] == 0:
        raise EvaluationError("the training set is empty")
    if yn.min() < 0 or yn.max() >= num_classes:
        raise EvaluationError(f"labels must lie in 0..{num_classes - 1}; got {yn.min()}..{yn.max()}")
    if not np.isfinite(xn).all():
        raise EvaluationError("features contain NaN or infinite values (or values too large for float32)")

    trail: tuple[dict[str, float], ...] = ()
    source = "given"
    if c == "auto":
        found = search_c(xn, yn, val_fraction=val_fraction, max_iter=max_iter, standardize=standardize,
                         class_balanced=class_balanced, seed=seed)
        if found is None:
            c, source = FALLBACK_C, "fallback: a class has fewer than 2 training rows, no validation split"
            log.warning("linear probe: %s; using C=%g", source[len("fallback: "):], c)
        else:
            (c, trail), source = found, "validation"
            log.info("linear probe: C=%g chosen on a validation split (%d fits)", c, len(trail))
    mean, scale = _standardizer(xn, standardize)
    z = _z(xn, mean, scale)
    d = xn.shape[1]
    if np.unique(yn).size == 1:  # one class: scikit-learn refuses; the answer is that class
        weight, bias = np.zeros((d, num_classes), np.float32), np.full(num_classes, -np.inf, np.float32)
        bias[yn[0]] = 0.0
        return ProbeFit(mean, scale, weight, bias, 0.0, 0, True, float(c), source, trail)
    clf, converged = _Fitter(max_iter, class_balanced).fit(z, yn, float(c))
    if not converged:
        log.warning("linear probe stopped at the iteration cap (%d) before converging", max_iter)
    weight, bias = _full_layer(clf, d, num_classes)
    from sklearn.metrics import log_loss

    sw = class_weights(yn, num_classes)[yn] if class_balanced else None
    loss = float(log_loss(yn, clf.predict_proba(z), labels=clf.classes_, sample_weight=sw))
    return ProbeFit(mean, scale, weight, bias, loss, int(np.max(clf.n_iter_)), converged, float(c), source, trail)


@dataclass(frozen=True)
class ProbeResult(M.ClassificationDocument):
    """Everything one probe run measured; :meth:`to_dict` has the k-NN result's shape."""

    train_accuracy: float
    final_loss: float
    iterations: int
    converged: bool
    train_keys: tuple[str, ...]
    train_source: str
    n_train_per_domain: dict[str, int]
    test_key: str
    test_source: str
    predictions: tuple[dict[str, Any], ...] = field(repr=False)
    task: str = "probe"

    def extra_metrics(self) -> dict[str, Any]:
        return {
            "train_accuracy": self.train_accuracy,
            "final_loss": self.final_loss,
            "iterations": self.iterations,
            "converged": self.converged,
        }


def evaluate_probe(
    train: list[FeatureSet] | FeatureSet,
    test: FeatureSet,
    *,
    C: float | str = "auto",
    max_iter: int = 1000,
    standardize: bool = True,
    class_balanced: bool = False,
    val_fraction: float = 0.2,
    seed: int = 0,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    weight_decay: float | None = None,
    epochs: int | None = None,
    device: str | None = None,
    allow_overlap: bool = False,
) -> ProbeResult:
    """Train a linear probe on the union of ``train``, classify ``test``, measure it.

    Refuses shared train/test videos (unless ``allow_overlap``) and mixed extraction settings.

    Deprecated spellings, kept for callers of the torch probe: ``weight_decay=wd`` fixes
    ``C = 1 / (n_train * wd)`` (the same objective); ``epochs`` is ``max_iter``. ``device``
    is accepted and ignored: scikit-learn fits on the CPU.
    """
    _check_bootstrap(bootstrap)
    if epochs is not None:
        check_positive_int("epochs", epochs)
        max_iter = epochs
    train = [train] if isinstance(train, FeatureSet) else list(train)
    _check_inputs(train, test, 1)
    from .checks import check_pair

    overlap = check_pair(train, test, allow_overlap=allow_overlap)
    class_names = train[0].class_names
    c = len(class_names)
    train_x = np.concatenate([t.features for t in train], 0)
    train_y = np.concatenate([t.labels for t in train], 0)
    train_domains = [d for t in train for d in t.domains]
    requested = regularisation_token(C, weight_decay)
    if weight_decay is not None:
        C = 1.0 / (len(train_y) * float(weight_decay))
    else:
        C = check_c(C)
    fit = fit_probe(
        train_x, train_y, c, C=C, max_iter=max_iter, standardize=standardize, class_balanced=class_balanced,
        val_fraction=val_fraction, seed=seed,
    )
    if not np.isfinite(test.features).all():
        raise EvaluationError("test features contain NaN or infinite values")
    proba = fit.predict_proba(test.features)
    pred = fit.predict(test.features)
    summary = M.classification_summary(test.labels, pred, c, bootstrap=bootstrap, seed=seed, confidence=confidence)
    predictions = tuple(
        {
            "video_id": test.video_ids[i],
            "label": int(test.labels[i]),
            "pred": int(pred[i]),
            "confidence": float(proba[i, pred[i]]),
        }
        for i in range(len(test))
    )
    settings = {
        "classifier": SOLVER,
        "C": C if C == "auto" else float(C),
        "C_chosen": fit.C,
        "C_source": fit.c_source,
        "C_search": [dict(t) for t in fit.c_search],
        "regularisation": requested,
        # the same penalty per training row, for readers of the torch probe's results
        "weight_decay": 1.0 / (len(train_y) * fit.C),
        "max_iter": max_iter,
        "val_fraction": val_fraction,
        "standardize": standardize,
        "class_balanced": class_balanced,
        "bootstrap": bootstrap,
        "seed": seed,
        "confidence": confidence,
        "device": "cpu",
    }
    if overlap["rows"]:
        settings["overlap_allowed"] = len(overlap["rows"])
    log.info("probe C=%g (%s): accuracy %.4f on %d test videos", fit.C, fit.c_source, summary["accuracy"], len(test))
    enc = encoder_name_of(test)
    return ProbeResult(
        encoder=enc if enc != "unknown" else encoder_name_of(train[0]),
        settings=settings,
        class_names=tuple(class_names),
        accuracy=summary["accuracy"],
        mean_per_class_accuracy=summary["mean_per_class_accuracy"],
        per_class_accuracy=tuple(summary["per_class_accuracy"]),
        ci=tuple(summary["ci"]) if summary["ci"] is not None else None,
        chance=summary["chance"],
        confusion=tuple(tuple(r) for r in summary["confusion"]),
        train_accuracy=M.accuracy(train_y, fit.predict(train_x)),
        final_loss=fit.loss,
        iterations=fit.iterations,
        converged=fit.converged,
        train_keys=tuple(t.key for t in train),
        train_source=source_label(train_domains),
        n_train_per_domain=dict(sorted(Counter(train_domains).items())),
        test_key=test.key,
        test_source=source_label(test.domains),
        predictions=predictions,
    )


# --------------------------------------------------------------------------- result files


def _slug(text: Any) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._+-]+", "-", str(text)).strip("-") or "none"


def write_probe_result(result: ProbeResult | dict[str, Any], out: str | Path) -> Path:
    """Write a probe result atomically (``out``: a ``.json`` file or a folder); see :func:`results.write_result`."""
    from .results import write_result

    return write_result(result, out)
