"""Statistics and the timing loop, with planted samples and a fake clock."""

from __future__ import annotations


import numpy as np
import pytest

from gesturebench.bench.compare import compare_samples, overall_sentence
from gesturebench.bench.stats import bootstrap_median_ratio, median_ci_ranks, summarize
from gesturebench.bench.timer import DeviceClock, TimerConfig, measure, measure_interleaved
from gesturebench.errors import ConfigError


def test_median_ci_ranks_match_binomial_tables():
    assert median_ci_ranks(5) is None  # too few for a 95% interval
    assert median_ci_ranks(6) == (0, 5)
    assert median_ci_ranks(10) == (1, 8)  # x(2)..x(9), coverage 97.9%
    assert median_ci_ranks(20) == (5, 14)  # x(6)..x(15)
    assert median_ci_ranks(100) == (39, 60)  # x(40)..x(61)


def test_summarize_planted():
    s = summarize([10.0, 1.0, 9.0, 2.0, 8.0, 3.0, 7.0, 4.0, 6.0, 5.0])
    assert (s.n, s.median, s.min, s.max) == (10, 5.5, 1.0, 10.0)
    assert s.p90 == pytest.approx(9.1) and s.p99 == pytest.approx(9.91)
    assert (s.ci_low, s.ci_high) == (2.0, 9.0)
    assert s.rel_ci_halfwidth == pytest.approx(3.5 / 5.5)
    assert summarize([1.0, 2.0]).rel_ci_halfwidth == float("inf")


def test_bootstrap_ratio_and_sentences():
    rng = np.random.default_rng(0)
    a = rng.normal(10.0, 0.2, 60)
    same = rng.normal(10.0, 0.2, 60)
    slower = a * 1.2
    r, lo, hi = bootstrap_median_ratio(a, slower)
    assert r == pytest.approx(1.2) and 1.15 < lo < 1.2 < hi < 1.25
    assert bootstrap_median_ratio(a, same) == bootstrap_median_ratio(a, same)  # deterministic (seeded)
    c = compare_samples("pre", list(a), "ft-syn", list(same), 8)
    assert c.within_noise and c.ci_low <= 1.0 <= c.ci_high
    assert c.sentence.startswith("batch 8: ft-syn / pre median latency = ")
    assert c.sentence.endswith("; the difference is within noise.")
    d = compare_samples("pre", list(a), "ft-real", list(slower), 8)
    assert not d.within_noise
    assert d.sentence == (
        f"batch 8: ft-real / pre median latency = 1.200 (95% CI {d.ci_low:.3f}-{d.ci_high:.3f}); "
        "ft-real is 20.0% slower, beyond noise."
    )
    e = compare_samples("pre", [1.0] * 10, "x", [0.25] * 10, 1)
    assert e.sentence.endswith("x is 4.0x faster, beyond noise.")
    assert overall_sentence([c]) == ["ft-syn vs pre: within noise at all 1 batch size(s) measured."]
    assert overall_sentence([d]) == ["ft-real vs pre: differs beyond noise at 1 of 1 batch size(s) (8; latency ratio 1.200)."]


class ScriptedClock(DeviceClock):
    """Returns scripted durations per function name instead of measuring."""

    def __init__(self, durations):
        super().__init__("cpu")
        self.durations = durations
        self.calls: list[str] = []

    def time_call(self, fn):
        name = fn()
        self.calls.append(name)
        return self.durations[name](len([c for c in self.calls if c == name]))


def test_interleaving_rotates_order_and_converges():
    clock = ScriptedClock({"a": lambda i: 0.010, "b": lambda i: 0.020, "c": lambda i: 0.030})
    fns = {n: (lambda n=n: n) for n in "abc"}
    cfg = TimerConfig(warmup=0, min_reps=6, max_reps=50, budget_s=100, rel_ci=0.01)
    out = measure_interleaved(fns, clock, cfg)
    assert clock.calls[:9] == list("abc" "bca" "cab")  # each variant leads a round in turn
    assert {n: len(t.samples) for n, t in out.items()} == {"a": 6, "b": 6, "c": 6}
    assert all(t.stop_reason == "converged" for t in out.values())
    assert out["b"].summary.median == 0.020


def test_noisy_variant_runs_to_max_reps_and_budget_stops():
    noisy = {"a": lambda i: 0.01 * (1 + (i % 2)), "b": lambda i: 0.01}  # a alternates 10/20 ms: never tight
    clock = ScriptedClock(noisy)
    fns = {n: (lambda n=n: n) for n in "ab"}
    out = measure_interleaved(fns, clock, TimerConfig(warmup=0, min_reps=6, max_reps=12, budget_s=100))
    assert [len(t.samples) for t in out.values()] == [12, 12]  # b keeps running while a has not converged
    assert out["a"].stop_reason == "max_reps"
    ticks = iter(range(1000))
    out = measure_interleaved(
        fns, ScriptedClock(noisy), TimerConfig(warmup=0, min_reps=6, max_reps=100, budget_s=5), now=lambda: next(ticks)
    )
    # the clock ticks once at the start and once per round: 5 rounds reach the 5 s budget
    assert out["a"].stop_reason == "budget" and len(out["a"].samples) == 5


def test_timer_config_validation():
    with pytest.raises(ConfigError, match=r"^max_reps \(2\) must be >= min_reps \(5\)$"):
        TimerConfig(min_reps=5, max_reps=2)
    with pytest.raises(ConfigError, match=r"^rel_ci must be in \(0, 1\); got 0$"):
        TimerConfig(rel_ci=0)
    with pytest.raises(ConfigError, match=r"^warmup must be an integer >= 0; got -1$"):
        TimerConfig(warmup=-1)


def test_timed_region_holds_only_the_call(monkeypatch):
    """A fake clock that ticks 1 us per read, plus 30 ms per call of the workload: every
    sample is exactly one call plus one tick, so the harness reads the clock once before
    and once after the call and does nothing else inside the timed region. (Its overhead
    against torch.utils.benchmark on a real workload is measured by
    benchmarks/bench_repeatability.py, not here: tests never depend on wall-clock speed.)"""
    import gesturebench.bench.timer as timer_mod

    now = {"t": 0.0}

    def fake_perf_counter() -> float:
        t = now["t"]
        now["t"] += 1e-6
        return t

    monkeypatch.setattr(timer_mod.time, "perf_counter", fake_perf_counter)
    calls = []

    def work():
        calls.append(1)
        now["t"] += 0.03

    cfg = TimerConfig(warmup=2, min_reps=15, max_reps=15, budget_s=60)
    t = measure(work, DeviceClock("cpu"), cfg)
    assert len(calls) == 2 + 15 and len(t.samples) == 15
    assert t.samples == pytest.approx([0.03 + 1e-6] * 15, abs=1e-12)
    assert t.summary.median == pytest.approx(0.030001, abs=1e-12)
