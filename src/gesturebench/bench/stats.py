"""Statistics for latency samples: percentiles, a distribution-free CI of the
median, and a bootstrap CI for the ratio of two medians. Pure numpy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1024)
def median_ci_ranks(n: int, confidence: float = 0.95) -> tuple[int, int] | None:
    """0-based ranks (j, k) such that [x_(j), x_(k)] of the sorted sample covers the
    median with probability >= ``confidence`` (binomial order-statistic interval).

    None when ``n`` is too small for any such interval (n < 6 at 95%).
    """
    if n < 1:
        return None
    alpha = (1.0 - confidence) / 2.0
    # P(Bin(n, 1/2) <= j - 1) <= alpha: the largest such j (1-based count below).
    cdf, j = 0.0, 0
    for i in range(n + 1):
        cdf += math.comb(n, i) / 2.0**n
        if cdf > alpha:
            break
        j = i + 1
    if j == 0:
        return None
    return j - 1, n - j  # symmetric: x_(j) .. x_(n+1-j) in 1-based ranks


@dataclass(frozen=True)
class Summary:
    """Summary of latency samples (seconds)."""

    n: int
    median: float
    mean: float
    std: float
    min: float
    max: float
    p90: float
    p99: float
    ci_low: float | None  # 95% CI of the median (None: too few samples)
    ci_high: float | None

    @property
    def rel_ci_halfwidth(self) -> float:
        """Half the CI width relative to the median (inf when there is no CI yet)."""
        if self.ci_low is None or self.ci_high is None or self.median <= 0:
            return math.inf
        return (self.ci_high - self.ci_low) / 2.0 / self.median


def summarize(samples: np.ndarray | list[float]) -> Summary:
    x = np.sort(np.asarray(samples, dtype=np.float64))
    if x.size == 0:
        raise ValueError("no samples")
    ranks = median_ci_ranks(int(x.size))
    lo, hi = (float(x[ranks[0]]), float(x[ranks[1]])) if ranks else (None, None)
    p90, p99 = np.percentile(x, [90, 99])
    return Summary(
        n=int(x.size),
        median=float(np.median(x)),
        mean=float(x.mean()),
        std=float(x.std(ddof=1)) if x.size > 1 else 0.0,
        min=float(x[0]),
        max=float(x[-1]),
        p90=float(p90),
        p99=float(p99),
        ci_low=lo,
        ci_high=hi,
    )


def bootstrap_median_ratio(
    a: np.ndarray | list[float],
    b: np.ndarray | list[float],
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """median(b) / median(a) and its percentile-bootstrap CI (each sample resampled
    independently with replacement). Deterministic for a given ``seed``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    rng = np.random.default_rng(seed)
    ma = np.median(a[rng.integers(0, a.size, (resamples, a.size))], axis=1)
    mb = np.median(b[rng.integers(0, b.size, (resamples, b.size))], axis=1)
    ratios = mb / ma
    tail = (1.0 - confidence) / 2.0 * 100.0
    lo, hi = np.percentile(ratios, [tail, 100.0 - tail])
    return float(np.median(b) / np.median(a)), float(lo), float(hi)
