"""Linear probe: multinomial logistic regression on frozen features.

Objective (minimised full-batch with L-BFGS, float32, strong-Wolfe line search)::

    L(W, b) = sum_i w_i * CE(softmax(W x_i + b), y_i) / n  +  weight_decay / 2 * |W|^2

where ``x_i`` are the features standardised with the mean and standard deviation
of the TRAINING rows only (test rows reuse them; constant columns keep scale 1),
``w_i = 1`` or, with ``class_balanced=True``, ``n / (K * n_{y_i})`` (scikit-learn's
``class_weight="balanced"``). The bias is not penalised. Dividing ``L`` by
``weight_decay`` gives ``C * sum_i w_i CE_i + |W|^2 / 2`` with
``C = 1 / (n * weight_decay)``: scikit-learn's ``LogisticRegression(C=C)``
objective, so both reach the same optimum.

Parameters start at zero and the problem is convex, so the fit is deterministic
on a given device; ``seed`` only seeds torch's generator for reproducibility of
anything stochastic and the bootstrap interval.
"""

from __future__ import annotations

import logging
import math
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


def _check_nonneg_float(name: str, value: Any, *, positive: bool = False) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ConfigError(f"{name} must be a finite number {bound}; got {value!r}")
    return float(value)


def _check_bootstrap(bootstrap: Any) -> None:
    M.check_bootstrap(bootstrap)


@dataclass(frozen=True)
class ProbeFit:
    """A fitted probe: standardisation statistics and the linear layer (numpy, float32)."""

    mean: np.ndarray  # (D,)
    scale: np.ndarray  # (D,)
    weight: np.ndarray  # (D, K)
    bias: np.ndarray  # (K,)
    loss: float
    iterations: int
    converged: bool

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


def fit_probe(
    x: Any,
    y: Any,
    num_classes: int,
    *,
    weight_decay: float = 1e-4,
    epochs: int = 200,
    lr: float = 1.0,
    standardize: bool = True,
    class_balanced: bool = False,
    seed: int = 0,
    device: str | None = None,
) -> ProbeFit:
    """Fit the probe on arrays (see the module docstring for the exact objective).

    ``epochs`` = maximum L-BFGS iterations (each may evaluate the loss a few times).
    """
    import torch

    from ..runtime import resolve_device

    check_positive_int("epochs", epochs)
    check_positive_int("num_classes", num_classes)
    wd = _check_nonneg_float("weight_decay", weight_decay)
    lr = _check_nonneg_float("lr", lr, positive=True)
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

    d = xn.shape[1]
    if standardize:
        mean = xn.astype(np.float64).mean(0)
        std = xn.astype(np.float64).std(0)
        scale = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    else:
        mean, scale = np.zeros(d), np.ones(d)
    mean32, scale32 = mean.astype(np.float32), scale.astype(np.float32)

    dev = resolve_device(device or "auto")
    torch.manual_seed(seed)
    xt = torch.from_numpy((xn - mean32) / scale32).to(dev)
    yt = torch.from_numpy(yn).to(dev)
    if class_balanced:
        sw = torch.from_numpy(class_weights(yn, num_classes)[yn].astype(np.float32)).to(dev)
    else:
        sw = torch.ones(yn.size, dtype=torch.float32, device=dev)
    n = float(yn.size)
    weight = torch.zeros((d, num_classes), dtype=torch.float32, device=dev, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float32, device=dev, requires_grad=True)
    opt = torch.optim.LBFGS(
        [weight, bias], lr=lr, max_iter=epochs, history_size=20,
        tolerance_grad=1e-6, tolerance_change=1e-10, line_search_fn="strong_wolfe",
    )

    def objective() -> torch.Tensor:
        ce = torch.nn.functional.cross_entropy(xt @ weight + bias, yt, reduction="none")
        return (sw * ce).sum() / n + 0.5 * wd * weight.square().sum()

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = objective()
        loss.backward()
        return loss

    opt.step(closure)
    state = opt.state[weight]
    iters = int(state.get("n_iter", 0))
    with torch.no_grad():
        final = float(objective())
    converged = iters < epochs
    if not converged:
        log.warning("linear probe stopped at the iteration cap (%d) before converging", epochs)
    return ProbeFit(
        mean=mean32, scale=scale32,
        weight=weight.detach().cpu().numpy(), bias=bias.detach().cpu().numpy(),
        loss=final, iterations=iters, converged=converged,
    )


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
    weight_decay: float = 1e-4,
    epochs: int = 200,
    lr: float = 1.0,
    standardize: bool = True,
    class_balanced: bool = False,
    seed: int = 0,
    bootstrap: int = 1000,
    confidence: float = 0.95,
    device: str | None = None,
    allow_overlap: bool = False,
) -> ProbeResult:
    """Train a linear probe on the union of ``train``, classify ``test``, measure it.

    Refuses shared train/test videos (unless ``allow_overlap``) and mixed extraction settings.
    """
    _check_bootstrap(bootstrap)
    train = [train] if isinstance(train, FeatureSet) else list(train)
    _check_inputs(train, test, 1)
    from .checks import check_pair

    overlap = check_pair(train, test, allow_overlap=allow_overlap)
    class_names = train[0].class_names
    c = len(class_names)
    train_x = np.concatenate([t.features for t in train], 0)
    train_y = np.concatenate([t.labels for t in train], 0)
    train_domains = [d for t in train for d in t.domains]
    fit = fit_probe(
        train_x, train_y, c, weight_decay=weight_decay, epochs=epochs, lr=lr, standardize=standardize,
        class_balanced=class_balanced, seed=seed, device=device,
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
    from ..runtime import resolve_device

    settings = {
        "classifier": "multinomial logistic regression (L-BFGS, full batch, float32)",
        "weight_decay": float(weight_decay),
        "sklearn_C": 1.0 / (len(train_y) * weight_decay) if weight_decay > 0 else None,
        "epochs": epochs,
        "lr": float(lr),
        "standardize": standardize,
        "class_balanced": class_balanced,
        "bootstrap": bootstrap,
        "seed": seed,
        "confidence": confidence,
        "device": resolve_device(device or "auto").type,
    }
    if overlap["rows"]:
        settings["overlap_allowed"] = len(overlap["rows"])
    log.info("probe wd=%g: accuracy %.4f on %d test videos", weight_decay, summary["accuracy"], len(test))
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
