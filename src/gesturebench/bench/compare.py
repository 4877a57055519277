"""Is variant B slower than variant A? Ratio of median latencies with a
bootstrap confidence interval, and a plain sentence."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .stats import bootstrap_median_ratio


@dataclass(frozen=True)
class Comparison:
    baseline: str
    other: str
    batch_size: int
    ratio: float  # median(other) / median(baseline)
    ci_low: float
    ci_high: float
    within_noise: bool
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def compare_samples(
    baseline: str,
    base_samples: list[float],
    other: str,
    other_samples: list[float],
    batch_size: int,
    resamples: int = 2000,
    seed: int = 0,
) -> Comparison:
    """The difference is *within noise* when the 95% CI of the ratio contains 1."""
    ratio, lo, hi = bootstrap_median_ratio(base_samples, other_samples, resamples=resamples, seed=seed)
    within = lo <= 1.0 <= hi
    ci = f"95% CI {lo:.3f}-{hi:.3f}"
    if within:
        verdict = "the difference is within noise"
    else:
        verdict = f"{other} is {_how_much(ratio)}, beyond noise"
    sentence = f"batch {batch_size}: {other} / {baseline} median latency = {ratio:.3f} ({ci}); {verdict}."
    return Comparison(baseline, other, batch_size, ratio, lo, hi, within, sentence)


def _how_much(ratio: float) -> str:
    """'12.3% slower', '2.5x faster' ..."""
    if ratio >= 2.0:
        return f"{ratio:.1f}x slower"
    if ratio <= 0.5:
        return f"{1.0 / ratio:.1f}x faster"
    return f"{abs(ratio - 1.0) * 100.0:.1f}% {'slower' if ratio > 1 else 'faster'}"


def overall_sentence(comparisons: list[Comparison]) -> list[str]:
    """One line per (baseline, other) pair across batch sizes."""
    pairs: dict[tuple[str, str], list[Comparison]] = {}
    for c in comparisons:
        pairs.setdefault((c.baseline, c.other), []).append(c)
    lines = []
    for (base, other), cs in pairs.items():
        differ = [c for c in cs if not c.within_noise]
        sizes = ", ".join(str(c.batch_size) for c in differ)
        if not differ:
            lines.append(f"{other} vs {base}: within noise at all {len(cs)} batch size(s) measured.")
        else:
            lo = min(c.ratio for c in differ)
            hi = max(c.ratio for c in differ)
            span = f"{lo:.3f}" if lo == hi else f"{lo:.3f}-{hi:.3f}"
            lines.append(
                f"{other} vs {base}: differs beyond noise at {len(differ)} of {len(cs)} batch size(s) "
                f"({sizes}; latency ratio {span})."
            )
    return lines
