"""The callables that get timed: one model-only batch, or one end-to-end batch
(decode + sample + preprocess + encode) with a per-stage breakdown."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GesturebenchError

if TYPE_CHECKING:
    import torch

    from ..encoders.base import Encoder
    from .timer import DeviceClock

OOM_MARKERS = ("out of memory", "can't allocate memory", "cannot allocate memory", "failed to allocate")


class SimulatedOOM(GesturebenchError):
    """Raised in place of a real allocation failure (``oom_above`` / memory cap)."""


def is_oom(exc: BaseException) -> bool:
    """True for torch.OutOfMemoryError, MemoryError, simulated OOM, or a
    RuntimeError whose message says memory ran out (CPU allocator, older CUDA)."""
    if isinstance(exc, (MemoryError, SimulatedOOM)):
        return True
    try:
        import torch

        if isinstance(exc, torch.OutOfMemoryError):
            return True
    except (ImportError, AttributeError):  # pragma: no cover - torch < 2.5
        pass
    return isinstance(exc, RuntimeError) and any(m in str(exc).lower() for m in OOM_MARKERS)


def release_memory(device: torch.device, collect: bool = False) -> None:
    """Return cached CUDA blocks so the next batch starts clean; after an OOM also
    ``collect`` garbage (tracebacks keep the failed batch's tensors in cycles).
    A full collection is slow with torch loaded (~0.3 s), hence only then."""
    import gc

    if collect:
        gc.collect()
    if device.type == "cuda":
        import torch

        torch.cuda.empty_cache()


def check_cap(batch: int, oom_above: int | None) -> None:
    if oom_above is not None and batch > oom_above:
        raise SimulatedOOM(f"simulated out of memory: batch {batch} > memory cap of {oom_above} clips")


def synthetic_clips(encoder: Encoder, batch: int, seed: int, device: torch.device) -> torch.Tensor:
    """Random uint8 frames through the encoder's own normalisation, on ``device``.

    Random pixels rather than zeros so no kernel can take a data-dependent
    shortcut; fixed ``seed`` so every run times the same input.
    """
    import torch

    from ..encoders.preprocess import normalize

    s = encoder.spec
    g = torch.Generator().manual_seed(seed + batch)
    raw = torch.randint(0, 256, (batch, s.num_frames, s.size, s.size, 3), dtype=torch.uint8, generator=g)
    return normalize(raw.to(device), s)


class ModelStep:
    """``encoder.encode(clips)`` on a fixed, preallocated batch."""

    def __init__(self, encoder: Encoder, batch: int, seed: int, device: torch.device, oom_above: int | None) -> None:
        check_cap(batch, oom_above)
        self.encoder = encoder
        self.clips = synthetic_clips(encoder, batch, seed, device)

    def __call__(self) -> Any:
        return self.encoder.encode(self.clips)

    def reset_breakdown(self) -> None:
        pass

    def breakdown(self) -> dict[str, float] | None:
        return None


class EndToEndStep:
    """One batch from video files: decode the sampled frames of ``batch`` videos
    (cycling through ``paths``), resize/crop and normalise them per the
    encoder's spec, encode. Each stage's seconds are recorded per call.

    Runs in the calling process, stage after stage, so the breakdown shows the
    cost of each stage (the extraction engine overlaps decoding with encoding
    in worker processes; this measures the work, not that overlap).
    """

    STAGES = ("decode", "preprocess", "encode")

    def __init__(
        self,
        encoder: Encoder,
        batch: int,
        paths: Sequence[str],
        clock: DeviceClock,
        oom_above: int | None,
        decode: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        check_cap(batch, oom_above)
        if not paths:
            raise GesturebenchError("end-to-end timing needs at least one readable video")
        self.encoder, self.batch, self.paths, self.clock = encoder, batch, list(paths), clock
        self.decode = decode or make_decoder(encoder)
        self.cursor = 0
        self.parts: dict[str, list[float]] = {s: [] for s in self.STAGES}

    def __call__(self) -> Any:
        import torch

        from ..encoders.preprocess import normalize, resize_crop

        spec = self.encoder.spec
        n = len(self.paths)
        t0 = time.perf_counter()
        frames = [self.decode(self.paths[(self.cursor + i) % n]) for i in range(self.batch)]
        self.cursor = (self.cursor + self.batch) % n
        t1 = time.perf_counter()
        crops = np.stack([resize_crop(f, spec) for f in frames])
        clips = normalize(torch.from_numpy(crops).to(self.encoder.device), spec)
        self.clock.synchronize()
        t2 = time.perf_counter()
        out = self.encoder.encode(clips)
        self.clock.synchronize()
        t3 = time.perf_counter()
        for stage, dt in zip(self.STAGES, (t1 - t0, t2 - t1, t3 - t2)):
            self.parts[stage].append(dt)
        return out

    def reset_breakdown(self) -> None:
        for v in self.parts.values():
            v.clear()

    def breakdown(self) -> dict[str, float] | None:
        """Median seconds per stage over the timed calls."""
        if not self.parts["encode"]:
            return None
        return {s: float(np.median(v)) for s, v in self.parts.items()}


def make_decoder(encoder: Encoder) -> Callable[[str], np.ndarray]:
    """TSN test-mode sampling of the encoder's frame count, decoded with the data layer."""
    try:
        from ..data.decode import decode_clip
        from ..data.sampling import SamplerConfig
    except ImportError as exc:  # the data layer is part of the package; this is a broken install
        raise GesturebenchError(f"end-to-end timing needs gesturebench.data: {exc}") from exc
    sampler = SamplerConfig(name="tsn", num_frames=encoder.spec.num_frames, mode="test")

    def decode(path: str) -> np.ndarray:
        return decode_clip(path, sampler)

    return decode
