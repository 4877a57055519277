"""stream_clips: ordered, complete, bounded, and closable early, with and without workers."""

from __future__ import annotations

import time

import pytest
from feature_fakes import PidLoader

from gesturebench.errors import ConfigError
from gesturebench.features.loader import resolve_workers, stream_clips


@pytest.mark.parametrize("workers", [0, 2])
def test_results_come_back_in_order_exactly_once(workers):
    items = [(i, f"v{i}") for i in range(40)]
    rows = [row for row, _, _ in stream_clips(items, PidLoader(), workers, window=6)]
    assert rows == list(range(40))


def test_closing_early_returns_promptly():
    gen = stream_clips([(i, "x") for i in range(1000)], PidLoader(0.01), 2, window=8)
    assert [next(gen)[0] for _ in range(3)] == [0, 1, 2]
    t = time.perf_counter()
    gen.close()  # cancels queued work: must not decode the remaining ~1000 videos
    assert time.perf_counter() - t < 5


def test_resolve_workers():
    assert resolve_workers(0) == 0 and resolve_workers("3") == 3 and 1 <= resolve_workers("auto") <= 8
    with pytest.raises(ConfigError, match=r"^workers must be 'auto' or an integer >= 0; got '3x'$"):
        resolve_workers("3x")
