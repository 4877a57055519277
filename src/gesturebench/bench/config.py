"""What to benchmark: a frozen, validated :class:`BenchConfig`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, check_choice, check_positive_int
from .timer import TimerConfig

DTYPES = ("auto", "fp32", "bf16", "fp16")
#: ``--weights`` values that mean "the preset's own weights"
DEFAULT_WEIGHTS = ("default", "-")


@dataclass(frozen=True)
class Variant:
    """One thing being timed: an encoder preset with a given weight file."""

    label: str
    encoder: str
    weights: str | None = None  # None: the preset's own weights (or none: training-free)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "encoder": self.encoder, "weights": self.weights}


def parse_batch_sizes(text: str) -> tuple[int, ...]:
    """``"1,2,4"`` -> (1, 2, 4); every size must be an integer >= 1."""
    sizes = []
    for tok in (t.strip() for t in str(text).split(",")):
        try:
            value = int(tok)
        except ValueError:
            raise ConfigError(f"--batch-sizes must be comma-separated integers, e.g. 1,2,4,8; got {text!r}") from None
        sizes.append(check_positive_int("batch size", value))
    return tuple(sizes)


def powers_of_two_upto(n: int) -> list[int]:
    """1, 2, 4, ... <= n, plus n itself."""
    out, b = [], 1
    while b <= n:
        out.append(b)
        b *= 2
    return sorted(set(out) | {n})


@dataclass(frozen=True)
class BenchConfig:
    """A benchmark run.

    encoders / weights: with no weights, one variant per encoder; with one encoder
    and several weights, one variant per weight file (checkpoint comparison);
    otherwise one weight per encoder, pairwise. ``default`` or ``-`` as a weight
    means the preset's own weights. The first variant is the comparison baseline.
    batch_sizes: the sweep; or ``max_batch``: ``"auto"`` (search the largest batch
    that fits, doubling then bisecting, up to ``auto_limit``) or an integer N
    (powers of two up to N, and N).
    options: factory options passed to every ``create_encoder`` call (``--encoder-opt``).
    oom_above: simulated memory cap for tests: a batch of more clips raises
    out-of-memory. memory_cap_mb: a batch whose peak memory exceeds this counts
    as out-of-memory.
    """

    encoders: tuple[str, ...]
    weights: tuple[str | None, ...] = ()
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16)
    max_batch: str | int | None = None
    auto_limit: int = 256
    dtype: str = "auto"
    compile: bool = False
    device: str = "auto"
    end_to_end: bool = False
    videos: tuple[str, ...] = ()
    timer: TimerConfig = field(default_factory=TimerConfig)
    oom_above: int | None = None
    memory_cap_mb: float | None = None
    max_call_s: float = 30.0
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)  # factory options for every variant

    def __post_init__(self) -> None:
        object.__setattr__(self, "options", dict(self.options))
        object.__setattr__(self, "encoders", tuple(self.encoders))
        object.__setattr__(self, "weights", tuple(self.weights))
        object.__setattr__(self, "videos", tuple(str(v) for v in self.videos))
        if not self.encoders:
            raise ConfigError("at least one --encoder is required")
        if self.weights and len(self.encoders) > 1 and len(self.weights) != len(self.encoders):
            raise ConfigError(
                f"give one --weights per --encoder, or several --weights with one --encoder; "
                f"got {len(self.encoders)} encoders and {len(self.weights)} weights"
            )
        if not self.batch_sizes:
            raise ConfigError("batch sizes must not be empty")
        for b in self.batch_sizes:
            check_positive_int("batch size", b)
        object.__setattr__(self, "batch_sizes", tuple(sorted(set(self.batch_sizes))))
        if self.max_batch is not None and self.max_batch != "auto":
            if isinstance(self.max_batch, str) and self.max_batch.strip().isdigit():
                object.__setattr__(self, "max_batch", int(self.max_batch))
            if isinstance(self.max_batch, str):
                raise ConfigError(f"max batch must be auto or an integer >= 1; got {self.max_batch!r}")
            check_positive_int("max batch", self.max_batch)
        check_positive_int("auto limit", self.auto_limit)
        check_choice("dtype", self.dtype, DTYPES)
        if self.oom_above is not None:
            check_positive_int("oom_above", self.oom_above)
        if self.memory_cap_mb is not None and not self.memory_cap_mb > 0:
            raise ConfigError(f"memory cap must be > 0 MB; got {self.memory_cap_mb!r}")
        if self.end_to_end and not self.videos:
            raise ConfigError("--end-to-end needs videos: give --data ROOT (and --list FILE)")
        if not self.max_call_s > 0:
            raise ConfigError(f"max_call_s must be > 0; got {self.max_call_s!r}")

    @property
    def mode(self) -> str:
        return "end-to-end" if self.end_to_end else "model"

    def variants(self) -> list[Variant]:
        pairs: list[tuple[str, str | None]]
        if not self.weights:
            pairs = [(e, None) for e in self.encoders]
        elif len(self.encoders) == 1:
            pairs = [(self.encoders[0], w) for w in self.weights]
        else:
            pairs = list(zip(self.encoders, self.weights))
        out: list[Variant] = []
        seen: dict[str, int] = {}
        many_weights = bool(self.weights)
        files = [Path(str(w)) for _, w in pairs if w is not None and str(w) not in DEFAULT_WEIGHTS]
        stems = [f.stem for f in files]
        for enc, w in pairs:
            weights = None if w is None or str(w) in DEFAULT_WEIGHTS else str(w)
            label = enc
            if many_weights:
                name = "default"
                if weights:
                    p = Path(weights)
                    # fine-tuning runs all write RUN/model.safetensors: name such files by their run folder
                    name = f"{p.parent.name}/{p.stem}" if stems.count(p.stem) > 1 and p.parent.name else p.stem
                label = f"{enc}@{name}"
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label = f"{label}#{seen[label]}"
            out.append(Variant(label, enc, weights))
        return out

    def planned_sizes(self) -> list[int]:
        """Batch sizes of a fixed sweep (``max_batch`` integer or ``batch_sizes``)."""
        if isinstance(self.max_batch, int):
            return powers_of_two_upto(self.max_batch)
        return list(self.batch_sizes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "encoders": list(self.encoders),
            "weights": list(self.weights),
            "variants": [v.to_dict() for v in self.variants()],
            "batch_sizes": list(self.batch_sizes) if self.max_batch is None else None,
            "max_batch": self.max_batch,
            "auto_limit": self.auto_limit,
            "dtype": self.dtype,
            "compile": self.compile,
            "device": self.device,
            "mode": self.mode,
            "num_videos": len(self.videos),
            "timer": self.timer.to_dict(),
            "oom_above": self.oom_above,
            "memory_cap_mb": self.memory_cap_mb,
            "max_call_s": self.max_call_s,
            "seed": self.seed,
            "options": dict(self.options),
        }
