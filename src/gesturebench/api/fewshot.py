"""``run_fewshot``: few-shot curves (with and without a base set), cached by result identity."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from . import common
from .common import Outcome, finish, lookup


def _identity(settings: dict[str, Any], base: list, pool: Any, test: Any):
    from ..evaluators.common import encoder_name_of, source_label, weights_sha_of
    from ..tasks import get_task

    doc = {
        "task": "fewshot", "encoder": encoder_name_of(test) if encoder_name_of(test) != "unknown" else encoder_name_of(pool),
        "settings": {**settings, "encoder_weights_sha256": weights_sha_of(test)},
        "base": {"keys": [b.key for b in base], "source": source_label([d for b in base for d in b.domains]) if base else None},
        "pool": {"key": pool.key, "source": source_label(pool.domains)},
        "test": {"key": test.key, "source": source_label(test.domains)},
    }
    return get_task("fewshot").identity(doc)


def run_fewshot(
    pool: Any,
    test: Any,
    *,
    base: Sequence[Any] = (),
    shots: Sequence[int] | str = (1, 2, 5, 10),
    repeats: int = 5,
    method: str = "knn",
    k: int = 3,
    metric: str = "l2",
    C: float | str = "auto",
    weight_decay: float | None = None,
    max_iter: int = 1000,
    epochs: int | None = None,
    class_balanced: bool = False,
    compare: bool = True,
    seed: int = 0,
    device: str = "auto",
    out: Any = None,
    overwrite: bool = False,
    progress: Callable[[str, int, int | None], None] | None = None,
    allow_overlap: bool = False,
) -> list[Outcome]:
    """One curve with ``base`` (+ the pool-only curve when ``compare`` and a base is given).

    ``progress(label, done, total)`` follows each trained classifier.
    """
    from ..errors import check_choice, check_positive_int
    from ..evaluators.common import weights_sha_of
    from ..evaluators.fewshot import METHODS, fewshot_curve, parse_shots
    from .probe import check_c, check_max_iter, check_weight_decay

    shot_list = parse_shots(shots, "--shots")
    check_choice("--method", method, METHODS)
    check_positive_int("--repeats", repeats)
    check_positive_int("-k", k)
    weight_decay = check_weight_decay(weight_decay)
    C = check_c(C)
    max_iter = check_max_iter(max_iter, epochs)
    base_sets = [common.load_set(b) for b in base]
    pool_set, test_set = common.load_set(pool), common.load_set(test)
    settings: dict[str, Any] = {"shots": list(shot_list), "repeats": repeats, "seed": seed, "method": method}
    if method == "knn":
        settings.update(k=k, metric=metric)
    else:
        from ..evaluators.probe import regularisation_token

        settings.update(regularisation=regularisation_token(C, weight_decay), max_iter=max_iter,
                        weight_decay=weight_decay, class_balanced=class_balanced)
    outcomes = []
    for b in [base_sets] + ([[]] if base_sets and compare else []):
        ident = _identity(settings, b, pool_set, test_set)
        hit = lookup(out, ident, overwrite)
        if hit is not None:
            outcomes.append(hit)
            continue
        label = f"few-shot {method}, base {'+'.join(x.key[:8] for x in b) or 'none'}"
        result = fewshot_curve(
            pool_set, test_set, shots=shot_list, repeats=repeats, method=method, base=b, k=k, metric=metric,
            C=C, weight_decay=weight_decay, max_iter=max_iter, class_balanced=class_balanced, seed=seed, device=device,
            allow_overlap=allow_overlap, progress=(lambda d, t, label=label: progress(label, d, t)) if progress else None,
        )
        result = dataclasses.replace(result, settings={**result.settings, "encoder_weights_sha256": weights_sha_of(test_set)})
        outcomes.append(finish(result, out, overwrite, ident))
    return outcomes


def curve_figure(outcomes: Sequence[Outcome], path: str | Path) -> Path:
    """The CLI's PNG beside the curve files: every curve of ``outcomes`` on one plot."""
    from ..report.plots import fewshot_curves

    return fewshot_curves([o.doc for o in outcomes], Path(path))
