"""Peak memory of one call: CUDA max allocated on GPU, peak RSS on CPU.

On Linux the process's peak RSS (``VmHWM``) can be reset by writing ``5`` to
``/proc/self/clear_refs``, which gives the peak of exactly the measured call.
Where that is not possible, the lifetime peak (``ru_maxrss``) is reported and
marked as such.
"""

from __future__ import annotations

import os
import resource
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

KINDS = ("cuda_max_allocated", "rss_peak", "rss_lifetime_peak")


@dataclass(frozen=True)
class MemoryReading:
    peak_bytes: int  # absolute peak during the call
    baseline_bytes: int  # in use just before the call
    kind: str  # one of KINDS

    @property
    def delta_bytes(self) -> int:
        return max(0, self.peak_bytes - self.baseline_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {"peak_bytes": self.peak_bytes, "baseline_bytes": self.baseline_bytes, "delta_bytes": self.delta_bytes, "kind": self.kind}


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _reset_rss_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class MemoryTracker:
    """``baseline, kind = tracker.start(); fn(); reading = tracker.stop(baseline, kind)``."""

    def __init__(self, device: torch.device | str = "cpu") -> None:
        import torch

        self.device = torch.device(device)

    def start(self) -> tuple[int, str]:
        # No gc.collect() here: with torch loaded one full collection takes ~0.3 s,
        # and the tracked call's peak does not depend on earlier garbage on CPU.
        if self.device.type == "cuda":
            import torch

            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            return torch.cuda.memory_allocated(self.device), KINDS[0]
        rss = _status_kb("VmRSS")
        if rss is not None and _reset_rss_peak():
            return rss, KINDS[1]
        return _ru_maxrss(), KINDS[2]

    def stop(self, baseline: int, kind: str) -> MemoryReading:
        if kind == KINDS[0]:
            import torch

            torch.cuda.synchronize(self.device)
            return MemoryReading(torch.cuda.max_memory_allocated(self.device), baseline, kind)
        if kind == KINDS[1]:
            peak = _status_kb("VmHWM")
            if peak is not None:
                return MemoryReading(peak, baseline, kind)
        return MemoryReading(_ru_maxrss(), baseline, KINDS[2])


def _ru_maxrss() -> int:
    usage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(usage) if sys.platform == "darwin" else int(usage) * 1024  # bytes on macOS, KiB on Linux


def current_rss() -> int | None:
    rss = _status_kb("VmRSS")
    if rss is not None:
        return rss
    try:
        import psutil

        return int(psutil.Process(os.getpid()).memory_info().rss)
    except Exception:  # noqa: BLE001 - memory readings are best effort
        return None
