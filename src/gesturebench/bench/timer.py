"""Timing done right: warm-up, device synchronisation, adaptive repetitions,
and interleaving of compared variants.

Each call of a measured function is timed on its own (CUDA events on GPU,
``time.perf_counter`` on CPU) so the samples give percentiles, not just a mean.
Variants measured together run round-robin, with the order rotated every
round, so slow drift (thermal, other load) hits all of them alike.

Repetitions stop when, for every variant, the 95% confidence interval of the
median is within ``rel_ci`` of it (and at least ``min_reps`` samples exist),
or when ``max_reps`` or the time ``budget_s`` is reached.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, check_positive_int
from .stats import Summary, summarize

if TYPE_CHECKING:
    import torch

STOP_REASONS = ("converged", "max_reps", "budget")


@dataclass(frozen=True)
class TimerConfig:
    """How long to measure.

    warmup: untimed calls per variant before timing (the first may compile/allocate).
    min_reps, max_reps: bounds on timed calls per variant.
    budget_s: wall-clock budget for the timed calls of one measurement (all variants).
    rel_ci: target half-width of the median's 95% CI, relative to the median.
    """

    warmup: int = 2
    min_reps: int = 10
    max_reps: int = 200
    budget_s: float = 5.0
    rel_ci: float = 0.01

    def __post_init__(self) -> None:
        if isinstance(self.warmup, bool) or not isinstance(self.warmup, int) or self.warmup < 0:
            raise ConfigError(f"warmup must be an integer >= 0; got {self.warmup!r}")
        check_positive_int("min_reps", self.min_reps)
        check_positive_int("max_reps", self.max_reps)
        if self.max_reps < self.min_reps:
            raise ConfigError(f"max_reps ({self.max_reps}) must be >= min_reps ({self.min_reps})")
        if not self.budget_s > 0:
            raise ConfigError(f"budget_s must be > 0; got {self.budget_s!r}")
        if not 0 < self.rel_ci < 1:
            raise ConfigError(f"rel_ci must be in (0, 1); got {self.rel_ci!r}")

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("warmup", "min_reps", "max_reps", "budget_s", "rel_ci")}


@dataclass
class Timing:
    """Samples (seconds) of one variant and why measuring stopped."""

    samples: list[float] = field(default_factory=list)
    #: CPU seconds the process used during each call (CPU device only): on a shared
    #: machine wall time grows with contention while CPU time does not; with one
    #: thread cpu/wall < 1 means the call waited for a core.
    cpu_samples: list[float] = field(default_factory=list)
    stop_reason: str = ""

    @property
    def summary(self) -> Summary:
        return summarize(self.samples)


class DeviceClock:
    """Times one call of ``fn`` on ``device``; returns seconds.

    CPU: ``perf_counter`` around the call. CUDA: events recorded on the current
    stream around the call, then a synchronisation (the call's kernels are
    asynchronous; host timestamps would only measure the launch).
    """

    def __init__(self, device: torch.device | str = "cpu") -> None:
        import torch

        self.device = torch.device(device)
        self.cuda = self.device.type == "cuda"
        #: process CPU seconds of the last timed call (None on CUDA)
        self.last_cpu: float | None = None
        if self.cuda:
            self._start = torch.cuda.Event(enable_timing=True)
            self._end = torch.cuda.Event(enable_timing=True)

    def synchronize(self) -> None:
        if self.cuda:
            import torch

            torch.cuda.synchronize(self.device)

    def time_call(self, fn: Callable[[], Any]) -> float:
        if self.cuda:
            self._start.record()
            fn()
            self._end.record()
            self._end.synchronize()
            return self._start.elapsed_time(self._end) / 1000.0
        c0 = time.process_time()
        t0 = time.perf_counter()
        fn()
        t1 = time.perf_counter()
        self.last_cpu = time.process_time() - c0
        return t1 - t0


def warm_up(fn: Callable[[], Any], clock: DeviceClock, calls: int) -> list[float]:
    """Run ``fn`` ``calls`` times untimed-for-statistics; return each call's seconds
    (the first is the cold-start latency, e.g. lazy init or compilation)."""
    out = []
    for _ in range(calls):
        out.append(clock.time_call(fn))
    clock.synchronize()
    return out


def _converged(samples: list[float], cfg: TimerConfig) -> bool:
    if len(samples) < max(cfg.min_reps, 6):  # a 95% median CI needs >= 6 samples
        return False
    return summarize(samples).rel_ci_halfwidth <= cfg.rel_ci


def measure_interleaved(
    fns: Mapping[str, Callable[[], Any]],
    clock: DeviceClock,
    cfg: TimerConfig,
    now: Callable[[], float] = time.perf_counter,
) -> dict[str, Timing]:
    """Time each function round-robin until every one has converged (or the
    budget / max_reps is hit). Warm-up is the caller's job (see :func:`warm_up`).

    Round ``r`` calls the variants in the order rotated by ``r``. A variant that
    has converged keeps running while others have not, so every variant sees
    the same conditions; at most ``max_reps`` calls each.
    """
    if not fns:
        return {}
    names = list(fns)
    timings = {n: Timing() for n in names}
    start = now()
    rnd = 0
    while True:
        k = rnd % len(names)
        for name in names[k:] + names[:k]:
            t = timings[name]
            t.samples.append(clock.time_call(fns[name]))
            if clock.last_cpu is not None:
                t.cpu_samples.append(clock.last_cpu)
        rnd += 1
        # The checks run between calls, outside the timed regions.
        if rnd >= cfg.max_reps:
            reason = "max_reps"
        elif rnd >= cfg.min_reps and all(_converged(t.samples, cfg) for t in timings.values()):
            reason = "converged"
        elif now() - start >= cfg.budget_s and rnd >= min(cfg.min_reps, 3):
            reason = "budget"
        else:
            continue
        for t in timings.values():
            t.stop_reason = reason
        return timings


def measure(fn: Callable[[], Any], clock: DeviceClock, cfg: TimerConfig) -> Timing:
    """Warm up and time one function (see :func:`measure_interleaved`)."""
    warm_up(fn, clock, cfg.warmup)
    return measure_interleaved({"fn": fn}, clock, cfg)["fn"]


def samples_array(t: Timing) -> np.ndarray:
    return np.asarray(t.samples, dtype=np.float64)
