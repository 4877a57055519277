"""``run_knn``: k-NN evaluation of feature stores, cached by result identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import common
from .common import Outcome, finish, lookup, request_identity


def run_knn(
    train: Sequence[Any] | Any,
    test: Any,
    *,
    k: int = 3,
    metric: str = "l2",
    bootstrap: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
    device: str = "auto",
    out: Any = None,
    overwrite: bool = False,
    allow_overlap: bool = False,
) -> Outcome:
    """Classify every video of ``test`` by its k nearest ``train`` videos (stores or loaded sets).

    With ``out`` (folder or ``.json``), the result is written under its identity; an
    identical evaluation already there is returned without work unless ``overwrite``.
    """
    from ..errors import check_choice, check_positive_int
    from ..evaluators.knn import METRICS, evaluate_knn

    check_positive_int("k", k)
    check_choice("metric", metric, METRICS)
    train_sets = [common.load_set(t) for t in (train if isinstance(train, (list, tuple)) else [train])]
    test_set = common.load_set(test)
    settings = {"k": k, "metric": metric, "bootstrap": bootstrap, "seed": seed, "confidence": confidence}
    ident = request_identity("knn", settings, test_set, train_sets)
    hit = lookup(out, ident, overwrite)
    if hit is not None:
        return hit
    result = evaluate_knn(train_sets, test_set, k=k, metric=metric, bootstrap=bootstrap, seed=seed,
                          confidence=confidence, device=device, allow_overlap=allow_overlap)
    return finish(result, out, overwrite, ident)
