"""Resource bounds for an extraction, checked before anything is allocated.

A careless ``--frames 100000`` or ``--encoder-opt size=4096`` must be refused with the
estimate and the limit, not found out by the kernel's OOM killer hours later. The
estimates are lower bounds of what the engine itself holds (clips in flight from the
decode workers, the staging batch, its float32 copies); an encoder's own activations
come on top.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from ..errors import ConfigError

#: most frames one video may be sampled into (clips x frames); the largest preset takes 64
MAX_FRAMES = 1024
#: GESTUREBENCH_MEMORY_LIMIT overrides the available-RAM limit (bytes, or 512M / 8G / 1.5T)
MEMORY_ENV = "GESTUREBENCH_MEMORY_LIMIT"
#: float32 copies of a batch that normalisation and the encoder's first layers hold at once
FLOAT_COPIES = 3


def gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def parse_bytes(text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not m:
        raise ConfigError(f"{MEMORY_ENV} must be a byte count such as 8G or 512M; got {text!r}")
    return int(float(m.group(1)) * 1024 ** " kmgt".index(m.group(2) or " "))


def memory_limit() -> tuple[int, str]:
    """(bytes, where the number comes from): the environment override, else available RAM."""
    if os.environ.get(MEMORY_ENV):
        return parse_bytes(os.environ[MEMORY_ENV]), MEMORY_ENV
    import psutil

    return int(psutil.virtual_memory().available), "available RAM"


def check_frames_cap(sampler: Any) -> None:
    frames = int(sampler.num_frames) * int(getattr(sampler, "num_clips", 1) or 1)
    if frames > MAX_FRAMES:
        raise ConfigError(
            f"--frames {sampler.num_frames} x {getattr(sampler, 'num_clips', 1)} clip(s) = {frames} frames per video "
            f"is above the limit of {MAX_FRAMES}; the largest encoder preset takes 64"
        )


def _free_disk(path: Path) -> int:
    p = path.resolve()
    while not p.exists() and p != p.parent:
        p = p.parent
    return shutil.disk_usage(p).free


def check_resources(
    encoder: Any, sampler: Any, batch_size: int, workers: int, num_videos: int, store_path: Path
) -> None:
    """Refuse, with the estimate and the limit, an extraction that cannot fit in memory or on disk."""
    spec = encoder.spec
    clips = int(getattr(sampler, "num_clips", 1) or 1)
    frames = clips * int(sampler.num_frames)
    clip_bytes = frames * spec.size * spec.size * 3  # one video's uint8 clip after resize/crop
    in_flight = max(2 * batch_size, 4 * workers)
    need = clip_bytes * (in_flight + batch_size) + clip_bytes * batch_size * 4 * FLOAT_COPIES
    limit, where = memory_limit()
    if need > limit:
        raise ConfigError(
            f"extraction would need at least {gib(need)} of memory ({frames} frames x {spec.size}x{spec.size} px "
            f"x 3 channels per video, batch {batch_size}, {in_flight} videos in flight, float32 copies) but the "
            f"limit is {gib(limit)} ({where}); lower --batch-size, --frames or the encoder's size"
        )
    device = getattr(encoder, "device", None)
    if getattr(device, "type", "cpu") == "cuda":
        import torch

        free, _ = torch.cuda.mem_get_info(device)
        on_device = clip_bytes * batch_size * (1 + 4 * FLOAT_COPIES)
        if on_device > free:
            raise ConfigError(
                f"extraction would need at least {gib(on_device)} of GPU memory for one batch of {batch_size} "
                f"but {device} has {gib(free)} free; lower --batch-size or --frames"
            )
    store_bytes = num_videos * int(encoder.feature_dim) * 4
    free_disk = _free_disk(Path(store_path))
    if store_bytes > free_disk:
        raise ConfigError(
            f"the feature store would take about {gib(store_bytes)} ({num_videos} videos x {encoder.feature_dim} "
            f"float32 features) but {store_path} has {gib(free_disk)} free on disk"
        )
