"""Paired comparison of two classifiers on the same test videos.

- Exact McNemar test: among the videos exactly one of the two classifies
  correctly (``b`` only A right, ``c`` only B right), under H0 each such video
  is equally likely to favour either, so ``b ~ Binomial(b + c, 1/2)``; the
  two-sided p-value is ``scipy.stats.binomtest(b, b + c, 0.5).pvalue`` (1 when
  ``b + c = 0``).
- Paired bootstrap of the accuracy difference ``acc(A) - acc(B)``: resample
  test videos with replacement (``rng = np.random.default_rng(seed)``, the same
  indices for both), percentile 95% interval.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class PairedComparison:
    n: int
    accuracy_a: float
    accuracy_b: float
    only_a: int
    only_b: int
    p_value: float
    difference: float
    ci: tuple[float, float] | None


def correct_by_video(doc: Mapping[str, Any]) -> dict[str, bool] | None:
    """``video_id -> prediction correct`` from a classification document (None without predictions)."""
    preds = doc.get("predictions") or []
    if not preds or not all(isinstance(p, dict) and "video_id" in p for p in preds):
        return None
    return {str(p["video_id"]): int(p["pred"]) == int(p["label"]) for p in preds}


def paired_comparison(a: Mapping[str, bool], b: Mapping[str, bool], *, bootstrap: int = 2000, seed: int = 0,
                      confidence: float = 0.95) -> PairedComparison | None:
    """Compare on the videos both were tested on; None when they share none."""
    from scipy.stats import binomtest

    ids = sorted(set(a) & set(b))
    if not ids:
        return None
    ca = np.array([a[i] for i in ids], bool)
    cb = np.array([b[i] for i in ids], bool)
    only_a, only_b = int((ca & ~cb).sum()), int((~ca & cb).sum())
    p = float(binomtest(only_a, only_a + only_b, 0.5).pvalue) if only_a + only_b else 1.0
    ci = None
    if bootstrap > 0:
        rng = np.random.default_rng(seed)
        d = ca.astype(np.float64) - cb.astype(np.float64)
        idx = rng.integers(0, len(ids), (bootstrap, len(ids)))
        diffs = d[idx].mean(1)
        lo, hi = np.percentile(diffs, [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2])
        ci = (float(lo), float(hi))
    return PairedComparison(n=len(ids), accuracy_a=float(ca.mean()), accuracy_b=float(cb.mean()), only_a=only_a,
                            only_b=only_b, p_value=p, difference=float(ca.mean() - cb.mean()), ci=ci)
