"""Run a benchmark: build the variants, sweep batch sizes (or search the largest
that fits), time each batch with interleaved variants, compare checkpoints.

The library never prints; pass ``progress`` (a callable taking one line of
text) to follow along.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, EncoderError, GesturebenchError
from .compare import Comparison, compare_samples, overall_sentence
from .config import BenchConfig, Variant, powers_of_two_upto
from .memory import MemoryReading, MemoryTracker
from .steps import EndToEndStep, ModelStep, SimulatedOOM, is_oom, release_memory
from .timer import DeviceClock, Timing, measure_interleaved, warm_up

if TYPE_CHECKING:
    import torch

    from ..encoders.base import Encoder

log = logging.getLogger(__name__)
Progress = Callable[[str], None]
MIB = 1024.0 * 1024.0


@dataclass
class BenchResult:
    config: dict[str, Any]
    environment: dict[str, Any]
    variants: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    comparisons: list[Comparison] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def rows_for(self, label: str, status: str | None = "ok") -> list[dict[str, Any]]:
        return [r for r in self.rows if r["variant"] == label and (status is None or r["status"] == status)]

    def to_dict(self) -> dict[str, Any]:
        from ..tasks.base import SCHEMA

        encoders = sorted({str(v.get("encoder")) for v in self.variants})
        return {
            # a result document of task "bench" (gesturebench.tasks.bench), so `report` reads it
            "schema": SCHEMA,
            "task": "bench",
            "encoder": "+".join(encoders) or "unknown",
            "settings": {k: v for k, v in self.config.items() if k not in ("device",)},
            "created": self.environment.get("time_utc") or datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "provenance": {k: self.environment.get(k) for k in ("git_revision", "versions", "machine")},
            "kind": "gesturebench.bench",
            "format_version": 1,
            "config": self.config,
            "environment": self.environment,
            "variants": self.variants,
            "rows": self.rows,
            "comparisons": [c.to_dict() for c in self.comparisons],
            "summary": self.summary,
            "notes": self.notes,
        }


def resolve_dtype(dtype: str, device: torch.device) -> str:
    """``auto`` -> bf16 on CUDA, fp32 elsewhere; refuse what the device cannot run."""
    import torch

    eff = ("bf16" if device.type == "cuda" else "fp32") if dtype == "auto" else dtype
    if device.type == "cpu" and eff == "fp16":
        raise ConfigError("dtype fp16 is not supported on cpu; allowed there: fp32, bf16")
    if device.type == "cuda" and eff == "bf16" and not torch.cuda.is_bf16_supported():
        raise ConfigError(
            f"dtype bf16 is not supported on {torch.cuda.get_device_name(device)}; allowed there: fp32, fp16"
        )
    return eff


def environment(device: torch.device, dtype: str) -> dict[str, Any]:
    """provenance() plus what matters for timings: device, threads, load."""
    import torch

    from ..provenance import provenance

    env: dict[str, Any] = provenance()
    env.update(
        {
            "time_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "device": str(device),
            "dtype": dtype,
            "torch_threads": torch.get_num_threads(),
            "torch_interop_threads": torch.get_num_interop_threads(),
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        }
    )
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        env["gpu"] = {
            "name": props.name,
            "memory_bytes": int(props.total_memory),
            "capability": f"{props.major}.{props.minor}",
            "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(),
        }
    return env


class _VariantFailed(Exception):
    def __init__(self, label: str, message: str, oom: bool) -> None:
        super().__init__(message)
        self.label, self.message, self.oom = label, message, oom


def _guard(label: str, fn: Callable[[], Any]) -> Callable[[], Any]:
    def call() -> Any:
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - classified just below
            if is_oom(exc):
                raise _VariantFailed(label, _first_line(exc), oom=True) from exc
            raise

    return call


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class _Runner:
    def __init__(self, cfg: BenchConfig, progress: Progress | None) -> None:
        from ..encoders.registry import get_entry
        from ..runtime import resolve_device

        self.cfg = cfg
        self.say = progress or (lambda _msg: None)
        self.variants = cfg.variants()
        for v in self.variants:  # unknown names fail before anything is built
            get_entry(v.encoder)
        self.device = resolve_device(cfg.device)
        self.dtype = resolve_dtype(cfg.dtype, self.device)
        self.clock = DeviceClock(self.device)
        self.memory = MemoryTracker(self.device)
        self.notes: list[str] = []
        self.encoders: dict[str, Encoder] = {}
        self.info: dict[str, dict[str, Any]] = {}
        self.videos = list(cfg.videos)
        self.load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None

    # -- setup -------------------------------------------------------------
    def build(self) -> None:
        from ..encoders.registry import create_encoder
        from ..encoders.torch_encoder import TorchEncoder

        for v in self.variants:
            self.say(f"building {v.label}")
            enc = create_encoder(v.encoder, weights=v.weights, device=str(self.device), **self.cfg.options)
            info: dict[str, Any] = {
                **v.to_dict(),
                "weights_sha256": enc.weights_sha256(),
                "feature_dim": enc.feature_dim,
                "spec": enc.spec.to_dict(),
                "params": None,
                "dtype": "fp32",
                "compiled": False,
            }
            if isinstance(enc, TorchEncoder):
                enc.precision = self.dtype
                info["dtype"] = self.dtype
                info["params"] = enc.num_parameters()
                if self.cfg.compile:
                    import torch

                    enc.model = torch.compile(enc.model)
                    info["compiled"] = True
            else:
                if self.dtype != "fp32":
                    self.notes.append(f"{v.label}: not a torch model; runs in fp32 whatever --dtype says.")
                if self.cfg.compile:
                    self.notes.append(f"{v.label}: not a torch model; --compile does not apply.")
            self.encoders[v.label] = enc
            self.info[v.label] = info

    def check_videos(self) -> None:
        """Decode every video once (also warms the page cache); drop unreadable ones."""
        from .steps import make_decoder

        first = self.encoders[self.variants[0].label]
        decode = make_decoder(first)
        good = []
        for p in self.videos:
            try:
                decode(p)
                good.append(p)
            except GesturebenchError as exc:
                self.notes.append(f"skipped unreadable video {p}: {exc}")
        if not good:
            raise GesturebenchError(f"none of the {len(self.videos)} video(s) could be decoded; see the notes")
        self.videos = good

    # -- one batch -----------------------------------------------------------
    def step(self, v: Variant, batch: int) -> ModelStep | EndToEndStep:
        enc = self.encoders[v.label]
        if self.cfg.end_to_end:
            return EndToEndStep(enc, batch, self.videos, self.clock, self.cfg.oom_above)
        return ModelStep(enc, batch, self.cfg.seed, self.device, self.cfg.oom_above)

    def prepare(self, v: Variant, batch: int, warmup: int) -> tuple[Any, list[float], MemoryReading | None, str | None]:
        """Build the step and warm it up; the last warm-up call is memory-tracked.

        Returns (step, warm-up seconds, memory reading, None) or (None, [], None, oom message).
        """
        message = None
        try:
            step = self.step(v, batch)
            warm = warm_up(step, self.clock, max(0, warmup - 1))
            baseline, kind = self.memory.start()
            warm.append(self.clock.time_call(step))
            reading = self.memory.stop(baseline, kind)
            cap = self.cfg.memory_cap_mb
            if cap is not None and reading.peak_bytes > cap * MIB:
                raise SimulatedOOM(
                    f"peak memory {reading.peak_bytes / MIB:.0f} MiB over the memory cap of {cap:g} MiB"
                )
            return step, warm, reading, None
        except Exception as exc:  # noqa: BLE001 - classified just below
            if not is_oom(exc):
                if self.info[v.label]["compiled"] and not isinstance(exc, GesturebenchError):
                    # torch.compile fails lazily, on the first call (e.g. no C++ compiler for inductor).
                    raise EncoderError(f"--compile failed for {v.label}: {_first_line(exc)}") from exc
                raise
            message = _first_line(exc)
        step = None
        release_memory(self.device, collect=True)
        return None, [], None, message

    def measure(self, steps: dict[str, Any]) -> tuple[dict[str, Timing], dict[str, str]]:
        """Interleaved timing; a variant that runs out of memory mid-way is dropped
        and the rest re-measured (their samples would mix two conditions)."""
        failed: dict[str, str] = {}
        steps = dict(steps)
        while steps:
            for s in steps.values():
                s.reset_breakdown()
            fns = {label: _guard(label, s) for label, s in steps.items()}
            try:
                return measure_interleaved(fns, self.clock, self.cfg.timer), failed
            except _VariantFailed as vf:
                failed[vf.label] = vf.message
                del steps[vf.label]
                release_memory(self.device, collect=True)
        return {}, failed

    # -- rows ----------------------------------------------------------------
    def row(
        self,
        v: Variant,
        batch: int,
        status: str,
        timing: Timing | None = None,
        reading: MemoryReading | None = None,
        warm: list[float] | None = None,
        breakdown: dict[str, float] | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        r: dict[str, Any] = {
            "variant": v.label,
            "encoder": v.encoder,
            "weights": v.weights,
            "mode": self.cfg.mode,
            "batch_size": batch,
            "status": status,
            "error": error,
        }
        if timing is not None:
            s = timing.summary
            r.update(
                {
                    "reps": s.n,
                    "stop_reason": timing.stop_reason,
                    "p50_ms": s.median * 1e3,
                    "p90_ms": s.p90 * 1e3,
                    "p99_ms": s.p99 * 1e3,
                    "mean_ms": s.mean * 1e3,
                    "std_ms": s.std * 1e3,
                    "min_ms": s.min * 1e3,
                    "ci_low_ms": None if s.ci_low is None else s.ci_low * 1e3,
                    "ci_high_ms": None if s.ci_high is None else s.ci_high * 1e3,
                    "per_clip_ms": s.median / batch * 1e3,
                    "clips_per_s": batch / s.median,
                    "samples_ms": [x * 1e3 for x in timing.samples],
                }
            )
            if timing.cpu_samples:
                cpu = float(np.median(timing.cpu_samples))
                r["cpu_p50_ms"] = cpu * 1e3
                r["cpu_per_wall"] = cpu / s.median if s.median > 0 else None
        if warm:
            r["first_call_ms"] = warm[0] * 1e3
        if reading is not None:
            r.update(
                {
                    "peak_mem_mb": reading.peak_bytes / MIB,
                    "mem_delta_mb": reading.delta_bytes / MIB,
                    "mem_kind": reading.kind,
                }
            )
        if breakdown is not None:
            total = sum(breakdown.values()) or 1.0
            for stage, sec in breakdown.items():
                r[f"{stage}_ms"] = sec * 1e3
                r[f"{stage}_share"] = sec / total
        return r

    # -- batch-size search ------------------------------------------------------
    def search(self, v: Variant) -> tuple[int, int | None, str | None, list[dict[str, Any]]]:
        """Largest batch that fits: double from 1 until out-of-memory (or the limit,
        or one call slower than ``max_call_s``), then bisect.

        Returns (largest fitting batch or 0, first failing batch or None, its message, probes).
        """
        probes: list[dict[str, Any]] = []
        limit = self.cfg.auto_limit

        def fits(b: int) -> tuple[bool, str | None]:
            t0 = time.perf_counter()
            step, warm, _, msg = self.prepare(v, b, warmup=1)
            del step
            probes.append({"batch_size": b, "fits": msg is None, "seconds": time.perf_counter() - t0, "error": msg})
            self.say(f"{v.label}: batch {b} {'fits' if msg is None else 'out of memory'}")
            return msg is None, msg

        lo, hi, hi_msg, b = 0, None, None, 1
        while True:
            ok, msg = fits(b)
            if not ok:
                hi, hi_msg = b, msg
                break
            lo = b
            if b >= limit:
                self.notes.append(f"{v.label}: no out-of-memory up to the search limit of {limit} (--auto-limit)")
                break
            if probes[-1]["seconds"] > self.cfg.max_call_s:
                self.notes.append(
                    f"{v.label}: search stopped at batch {b}: one call took {probes[-1]['seconds']:.1f} s "
                    f"(> {self.cfg.max_call_s:g} s)"
                )
                break
            b = min(2 * b, limit)
        if hi is not None:
            while hi - lo > 1:
                mid = (lo + hi) // 2
                ok, msg = fits(mid)
                if ok:
                    lo = mid
                else:
                    hi, hi_msg = mid, msg
        return lo, hi, hi_msg, probes

    # -- the sweep -------------------------------------------------------------
    def run(self) -> BenchResult:
        cfg = self.cfg
        self.build()
        if cfg.end_to_end:
            self.check_videos()
        sizes: dict[str, list[int]] = {}
        trailing_oom: dict[str, tuple[int, str]] = {}
        if cfg.max_batch == "auto":
            for v in self.variants:
                lo, hi, msg, probes = self.search(v)
                self.info[v.label]["search"] = probes
                self.info[v.label]["max_batch"] = lo
                sizes[v.label] = powers_of_two_upto(lo) if lo else []
                if hi is not None:
                    trailing_oom[v.label] = (hi, msg or "out of memory")
        else:
            for v in self.variants:
                sizes[v.label] = cfg.planned_sizes()

        rows: list[dict[str, Any]] = []
        alive = {v.label for v in self.variants}
        largest_ok: dict[str, int] = {}
        for batch in sorted({b for s in sizes.values() for b in s}):
            active = [v for v in self.variants if v.label in alive and batch in sizes[v.label]]
            prepared: dict[str, tuple[Any, list[float], MemoryReading | None]] = {}
            for v in active:
                step, warm, reading, msg = self.prepare(v, batch, cfg.timer.warmup)
                if msg is not None:
                    rows.append(self.row(v, batch, "oom", error=msg))
                    alive.discard(v.label)
                    self.say(f"{v.label}: batch {batch} out of memory; the sweep stops here for it")
                    continue
                prepared[v.label] = (step, warm, reading)
            timings, failed = self.measure({label: p[0] for label, p in prepared.items()})
            for v in active:
                if v.label in failed:
                    rows.append(self.row(v, batch, "oom", error=failed[v.label]))
                    alive.discard(v.label)
                elif v.label in timings:
                    step, warm, reading = prepared[v.label]
                    r = self.row(v, batch, "ok", timings[v.label], reading, warm, step.breakdown())
                    rows.append(r)
                    largest_ok[v.label] = batch
                    self.say(
                        f"{v.label}: batch {batch}: p50 {r['p50_ms']:.2f} ms, {r['clips_per_s']:.1f} clips/s "
                        f"({r['reps']} reps, {r['stop_reason']})"
                    )
            prepared.clear()
            release_memory(self.device)
        for v in self.variants:
            if v.label in trailing_oom and v.label in alive:
                b, msg = trailing_oom[v.label]
                rows.append(self.row(v, b, "oom", error=msg))
            if any(r["variant"] == v.label and r["status"] == "oom" for r in rows):
                self.info[v.label]["max_batch"] = largest_ok.get(v.label, 0)
                self.notes.append(f"{v.label}: largest batch that fits: {largest_ok.get(v.label, 0)}")
        rows.sort(key=lambda r: ([x.label for x in self.variants].index(r["variant"]), r["batch_size"]))
        shares = [r["cpu_per_wall"] for r in rows if r.get("cpu_per_wall") is not None]
        if shares and float(np.median(shares)) < 0.8:
            self.notes.append(
                f"timed calls got {float(np.median(shares)) * 100:.0f}% of the CPU time they spanned (median): "
                "the machine is busy and wall-clock latencies include waiting for a core (see cpu_p50_ms)"
            )

        comparisons = self.compare(rows)
        env = environment(self.device, self.dtype)
        env["load_average_start"] = self.load_start
        return BenchResult(
            config=cfg.to_dict(),
            environment=env,
            variants=[self.info[v.label] for v in self.variants],
            rows=rows,
            comparisons=comparisons,
            summary=overall_sentence(comparisons),
            notes=self.notes,
        )

    def compare(self, rows: list[dict[str, Any]]) -> list[Comparison]:
        if len(self.variants) < 2:
            return []
        ok = {(r["variant"], r["batch_size"]): r for r in rows if r["status"] == "ok"}
        base = self.variants[0].label
        out = []
        for v in self.variants[1:]:
            for (label, b), r in sorted(ok.items(), key=lambda kv: kv[0][1]):
                if label == v.label and (base, b) in ok:
                    out.append(
                        compare_samples(base, ok[(base, b)]["samples_ms"], v.label, r["samples_ms"], b, seed=self.cfg.seed)
                    )
        return out


def run_bench(cfg: BenchConfig, progress: Progress | None = None) -> BenchResult:
    """Run the benchmark described by ``cfg`` (see :class:`BenchConfig`)."""
    return _Runner(cfg, progress).run()
