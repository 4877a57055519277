"""Inference latency and throughput of encoders across batch sizes.

``run_bench(BenchConfig(...))`` -> :class:`BenchResult`; ``write_outputs``
turns it into JSON, CSV, PNG plots and a Markdown summary. Timing primitives
(:mod:`.timer`) and statistics (:mod:`.stats`) are usable on their own.
"""

from __future__ import annotations

from .config import BenchConfig, Variant, parse_batch_sizes
from .timer import DeviceClock, TimerConfig, Timing, measure, measure_interleaved

__all__ = [
    "BenchConfig",
    "BenchResult",
    "DeviceClock",
    "TimerConfig",
    "Timing",
    "Variant",
    "measure",
    "measure_interleaved",
    "parse_batch_sizes",
    "run_bench",
    "write_outputs",
]


def __getattr__(name: str):
    if name in ("run_bench", "BenchResult"):
        from . import runner

        return getattr(runner, name)
    if name == "write_outputs":
        from .output import write_outputs

        return write_outputs
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
