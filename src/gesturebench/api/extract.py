"""``build_encoder`` and ``run_extract``: one vector per video into a cached, resumable store."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..encoders.base import Encoder
    from ..features.extract import ExtractionReport


def build_encoder(
    name: str, weights: str | os.PathLike[str] | None, device: str, frames: int | None,
    options: Mapping[str, Any] | None = None,
) -> Encoder:
    """Create ``name`` for ``frames``-frame clips, with ``options`` for its factory (``--encoder-opt``).

    Encoders that take any frame count (``accepts_any_num_frames``, e.g. V-JEPA 2) are used
    as created; otherwise a count other than the preset's asks the factory to rebuild for it
    (training-free encoders such as pixels and motion can), and a model with a fixed
    temporal size refuses, naming the count that works. An option the factory does not
    take is an :class:`EncoderError` naming it (see ``create_encoder``).
    """
    from ..encoders.registry import create_encoder, get_entry
    from ..errors import ConfigError, EncoderError, WeightsError

    opts = dict(options or {})
    entry = get_entry(name)
    if frames is not None and "num_frames" in opts:
        if opts["num_frames"] != frames:
            raise ConfigError(
                f"--frames {frames} and --encoder-opt num_frames={opts['num_frames']} disagree; give one of them"
            )
        frames = None  # the option asks the factory for it already
    if frames is None or frames == entry.spec.num_frames:
        return create_encoder(name, weights=weights, device=device, **opts)
    try:
        return create_encoder(name, weights=weights, device=device, **opts, num_frames=frames)
    except WeightsError:
        raise
    except (TypeError, ConfigError, EncoderError) as exc:
        enc = create_encoder(name, weights=weights, device=device, **opts)
        if getattr(enc, "accepts_any_num_frames", False):
            return enc
        raise ConfigError(
            f"encoder {name!r} takes {entry.spec.num_frames} frames per clip and cannot be built for "
            f"--frames {frames} ({exc}); use --frames {entry.spec.num_frames} or leave it out"
        ) from None


def run_extract(
    data: str | os.PathLike[str],
    encoder: str | Encoder,
    out: str | os.PathLike[str],
    *,
    lists: Sequence[str | os.PathLike[str]] | None = None,
    weights: str | os.PathLike[str] | None = None,
    frames: int | None = None,
    sampler: str = "tsn",
    batch_size: int = 8,
    workers: int | str = "auto",
    options: Mapping[str, Any] | None = None,
    device: str = "auto",
    strict: bool = False,
    overwrite: bool = False,
    manifest: Any = None,
    progress: Callable[[int, int], None] | None = None,
    engine: Any = "local",
) -> ExtractionReport:
    """Extract features of the videos of ``data`` (``lists``, or the detected layout) into ``out``.

    ``encoder``: a preset name (built with :func:`build_encoder`) or an encoder already built.
    ``manifest``: an already loaded manifest to use instead of ``data``/``lists``.
    Rerunning is a cache hit; an interrupted run resumes.
    ``engine``: ``"local"``, ``"ray"`` or a :class:`gesturebench.ray_cluster.RayEngine`; on Ray
    a preset is built on CPU here and ``device`` is where the encoder actors run.
    """
    from ..data.manifest import load_manifest
    from ..data.sampling import SamplerConfig
    from ..features.extract import extract_features
    from ..features.loader import resolve_workers

    n_workers = resolve_workers(workers) if isinstance(workers, str) else workers
    if manifest is None:
        manifest = load_manifest(Path(data), [Path(p) for p in lists] if lists else None)
    on_ray = engine != "local"
    if isinstance(encoder, str):
        enc = build_encoder(encoder, weights, "cpu" if on_ray else device, frames, options)
    else:
        enc = encoder
    sampler_cfg = SamplerConfig(name=sampler, num_frames=enc.spec.num_frames if frames is None else frames)
    return extract_features(
        manifest, enc, Path(out), sampler_cfg, batch_size=batch_size, workers=n_workers, strict=strict,
        overwrite=overwrite, progress=progress, engine=engine, device=device if on_ray else None,
    )
