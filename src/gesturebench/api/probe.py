"""``run_probe``: a linear probe on frozen features, cached by result identity."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

from . import common
from .common import Outcome, finish, lookup, request_identity


def check_weight_decay(value: Any, name: str = "--weight-decay") -> float:
    from ..errors import ConfigError

    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a finite number >= 0; got {value!r}")
    return float(value)


def run_probe(
    train: Sequence[Any] | Any,
    test: Any,
    *,
    weight_decay: float = 1e-4,
    epochs: int = 200,
    balanced: bool = False,
    bootstrap: int = 1000,
    seed: int = 0,
    device: str = "auto",
    out: Any = None,
    overwrite: bool = False,
    allow_overlap: bool = False,
) -> Outcome:
    """Train a linear probe on ``train`` stores, measure it on ``test``; write/cached like :func:`run_knn`."""
    from ..errors import check_positive_int
    from ..evaluators.common import weights_sha_of
    from ..evaluators.probe import evaluate_probe

    check_weight_decay(weight_decay)
    check_positive_int("--epochs", epochs)
    train_sets = [common.load_set(t) for t in (train if isinstance(train, (list, tuple)) else [train])]
    test_set = common.load_set(test)
    settings = {"weight_decay": float(weight_decay), "epochs": epochs, "class_balanced": balanced,
                "bootstrap": bootstrap, "seed": seed}
    ident = request_identity("probe", settings, test_set, train_sets)
    hit = lookup(out, ident, overwrite)
    if hit is not None:
        return hit
    result = evaluate_probe(train_sets, test_set, weight_decay=weight_decay, epochs=epochs, class_balanced=balanced,
                            bootstrap=bootstrap, seed=seed, device=device, allow_overlap=allow_overlap)
    result = dataclasses.replace(result, settings={**result.settings, "encoder_weights_sha256": weights_sha_of(test_set)})
    return finish(result, out, overwrite, ident)
