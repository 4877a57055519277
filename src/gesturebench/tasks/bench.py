"""Latency and throughput (task ``bench``): ``gesturebench bench``'s ``bench.json``.

Fields read by the report: ``variants`` (``label``, ``encoder``), ``rows`` (one per
variant x batch size: ``variant``, ``batch_size``, ``status``, ``p50_ms``,
``p90_ms``, ``clips_per_s``, ``ci_low_ms``, ``ci_high_ms``), ``comparisons``,
``config`` (mode, timer) and ``environment`` (device, machine, load).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import TaskType


class BenchTask(TaskType):
    name = "bench"
    title = "Latency and throughput against batch size"
    order = 70

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        return str(settings.get("mode", "model"))

    def validate(self, doc: Mapping[str, Any]) -> str | None:
        if not isinstance(doc.get("variants"), list) or not doc["variants"]:
            return "'variants' must be a non-empty list"
        rows = doc.get("rows")
        if not isinstance(rows, list):
            return "'rows' must be a list"
        for i, r in enumerate(rows):
            if not isinstance(r, dict) or not isinstance(r.get("batch_size"), int) or "status" not in r:
                return f"rows[{i}] must have an integer 'batch_size' and a 'status'"
        return None

    def section(self, entries, ctx):
        from ..report.sections import bench_section

        return bench_section(self, entries, ctx)


BENCH = BenchTask()
