"""``run_probe``: a linear probe on frozen features, cached by result identity."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from . import common
from .common import Outcome, finish, lookup, request_identity


def check_weight_decay(value: Any, name: str = "--weight-decay") -> float | None:
    """None (not given) or a finite number > 0 (the torch probe's fixed penalty, C = 1 / (n * wd))."""
    from ..errors import ConfigError

    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be a finite number > 0; got {value!r}")
    return float(value)


def check_c(value: Any, name: str = "--C") -> float | str:
    """``auto`` or a finite number > 0 (scikit-learn's C)."""
    from ..errors import ConfigError
    from ..evaluators.probe import check_c as _check

    try:
        return _check(value)
    except ConfigError:
        raise ConfigError(f"{name} must be 'auto' or a finite number > 0; got {value!r}") from None


def check_max_iter(max_iter: Any, epochs: Any = None) -> int:
    """``max_iter``, or the deprecated ``epochs`` (the torch probe's name for the same cap) when given."""
    from ..errors import check_positive_int

    if epochs is not None:
        return check_positive_int("--epochs", epochs)
    return check_positive_int("--max-iter", max_iter)


def run_probe(
    train: Sequence[Any] | Any,
    test: Any,
    *,
    C: float | str = "auto",
    weight_decay: float | None = None,
    max_iter: int = 1000,
    epochs: int | None = None,
    balanced: bool = False,
    bootstrap: int = 1000,
    seed: int = 0,
    device: str = "auto",
    out: Any = None,
    overwrite: bool = False,
    allow_overlap: bool = False,
) -> Outcome:
    """Train a linear probe on ``train`` stores, measure it on ``test``; write/cached like :func:`run_knn`.

    ``C="auto"`` chooses C on a validation split (:mod:`gesturebench.evaluators.probe`);
    ``weight_decay`` fixes the torch probe's penalty instead; ``epochs`` is ``max_iter``'s old name.
    """
    from ..evaluators.common import weights_sha_of
    from ..evaluators.probe import evaluate_probe, regularisation_token

    weight_decay = check_weight_decay(weight_decay)
    C = check_c(C)
    max_iter = check_max_iter(max_iter, epochs)
    train_sets = [common.load_set(t) for t in (train if isinstance(train, (list, tuple)) else [train])]
    test_set = common.load_set(test)
    settings = {"regularisation": regularisation_token(C, weight_decay), "max_iter": max_iter,
                "class_balanced": balanced, "bootstrap": bootstrap, "seed": seed}
    ident = request_identity("probe", settings, test_set, train_sets)
    hit = lookup(out, ident, overwrite)
    if hit is not None:
        return hit
    result = evaluate_probe(train_sets, test_set, C=C, weight_decay=weight_decay, max_iter=max_iter,
                            class_balanced=balanced, bootstrap=bootstrap, seed=seed, device=device,
                            allow_overlap=allow_overlap)
    result = dataclasses.replace(result, settings={**result.settings, "encoder_weights_sha256": weights_sha_of(test_set)})
    return finish(result, out, overwrite, ident)
