"""Feature extraction: manifest -> decode workers -> encoder -> feature store.

The hot loop runs in the main process under ``torch.inference_mode()``: clips
arrive already resized/cropped (uint8) from :mod:`.loader` workers, are copied
into a preallocated staging batch, normalised and encoded on the encoder's
device, and written into a preallocated per-shard output on that device. The
only device->host copy is one per shard, when the shard is stored.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import ConfigError, DecodeError, EncoderError, StoreError, check_positive_int
from ..fileio import sha256_json
from .budget import check_frames_cap, check_resources
from .loader import ClipLoader, resolve_workers, stream_clips
from .meta import rows_checksums
from .prepare import prepare_store
from .store import FORMAT_NAME, FORMAT_VERSION, FeatureStore, cache_key

if TYPE_CHECKING:
    import torch

    from ..encoders.base import Encoder
    from ..types import Manifest

log = logging.getLogger(__name__)

#: Bump when resize/crop/normalise change what they compute (invalidates every cached store).
PREPROCESS_VERSION = 1
DEFAULT_SHARD_SIZE = 256

#: progress(done, total): videos finished (encoded, reused or failed) out of the manifest.
ProgressFn = Callable[[int, int], None]


class BadVideo(NamedTuple):
    """A video that could not be used, and why. ``(video_id, reason)`` first, for unpacking."""

    video_id: str
    reason: str
    row: int


@dataclass
class ExtractionReport:
    """What one :func:`extract_features` call did.

    ``computed`` videos were decoded and encoded by this call, ``reused`` came
    from shards already in the store (or, for ``action`` grow/migrate, from the
    store's earlier features), ``failed`` could not be decoded (listed in
    ``bad``). ``cached`` is True when the store was already complete and every
    shard passed its checksum. ``action`` is fresh, cached, resume, repair,
    migrate or grow; ``note`` says what a repair, migration or growth did.
    """

    store_path: Path
    key: str
    total: int
    computed: int = 0
    reused: int = 0
    bad: list[BadVideo] = field(default_factory=list)
    seconds: float = 0.0
    cached: bool = False
    workers: int = 0
    batch_size: int = 0
    device: str = "cpu"
    action: str = "fresh"
    note: str = ""
    #: videos used despite decoder warnings (e.g. a corrupt frame that was not sampled), this run
    warnings: list[BadVideo] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.bad)

    @property
    def extracted(self) -> int:
        """Videos with features in the store."""
        return self.total - self.failed

    @property
    def videos_per_s(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "store": str(self.store_path), "key": self.key, "total": self.total,
            "extracted": self.extracted, "computed": self.computed, "reused": self.reused,
            "failed": self.failed, "cached": self.cached, "seconds": round(self.seconds, 3),
            "videos_per_s": round(self.videos_per_s, 3), "workers": self.workers,
            "batch_size": self.batch_size, "device": self.device, "action": self.action,
            "bad": [b._asdict() for b in self.bad],
            "warnings": [w._asdict() for w in self.warnings],
        }


# ---- settings and cache key ------------------------------------------------------------------
def _qualname(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"


def compute_precision(encoder: Encoder) -> str:
    """The arithmetic the encoder will use on its device (bf16 autocast on CUDA for TorchEncoders)."""
    precision = getattr(encoder, "precision", "fp32")
    if precision == "auto":
        return "bf16" if encoder.device.type == "cuda" else "fp32"
    return str(precision)


def files_fingerprint(manifest: Manifest) -> str:
    """SHA-256 over (path, size, mtime) of every video: regenerated files invalidate the cache."""
    stats = []
    for rec in manifest.records:
        try:
            st = os.stat(manifest.abspath(rec))
            stats.append([rec.path, st.st_size, st.st_mtime_ns])
        except OSError:
            stats.append([rec.path, -1, -1])
    return sha256_json(stats)


def extraction_settings(
    manifest: Manifest, encoder: Encoder, sampler: Any, decode_fn: Callable[..., Any], precision: str | None = None
) -> dict[str, Any]:
    """Every setting that determines the stored features; the cache key is their hash.

    The package version is not one of them (a release that changes what features are
    computed bumps the encoder's ``version`` or :data:`PREPROCESS_VERSION` instead); it is
    recorded in the metadata as ``created_by``.

    precision: what the encoder computes in, when it runs elsewhere (Ray actors);
    default: :func:`compute_precision` on this process's encoder.
    """
    spec = encoder.spec
    return {
        "encoder": encoder.identity(),
        "sampler": sampler.to_dict(),
        "decoder": _qualname(decode_fn),
        "preprocess": {
            "version": PREPROCESS_VERSION,
            "recipe": spec.preprocess,
            "resize_short_side": spec.resize_short_side,
            "crop": [spec.size, spec.size],
            "mean": list(spec.mean),
            "std": list(spec.std),
            "layout": spec.layout,
        },
        "precision": precision or compute_precision(encoder),
        "dtype": "float32",
        "manifest": manifest.content_hash(),
        "files": files_fingerprint(manifest),
    }


def _check_frames(encoder: Encoder, sampler: Any) -> None:
    """The sampler's frame count must be the encoder's, unless the encoder takes any count."""
    n, spec = sampler.num_frames, encoder.spec
    if n == spec.num_frames:
        return
    if not getattr(encoder, "accepts_any_num_frames", False):
        raise ConfigError(
            f"--frames {n} does not fit encoder {encoder.name!r}, which takes {spec.num_frames} frames per clip "
            f"(its input spec); use --frames {spec.num_frames}"
        )
    if n % spec.tubelet:
        raise ConfigError(
            f"--frames {n} must be a multiple of encoder {encoder.name!r}'s tubelet size {spec.tubelet}"
        )


# ---- store preparation -----------------------------------------------------------------------
def _new_meta(
    key: str, settings: dict[str, Any], manifest: Manifest, encoder: Encoder, shard_size: int
) -> dict[str, Any]:
    from .. import __version__

    n = len(manifest)
    rows = {
        "video_ids": [r.video_id for r in manifest.records],
        "labels": [r.label for r in manifest.records],
        "domains": [r.domain for r in manifest.records],
        "views": [r.view for r in manifest.records],
        "splits": [r.split for r in manifest.records],
    }
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "status": "partial",
        "key": key,
        "settings": settings,
        "dtype": "float32",
        "feature_dim": int(encoder.feature_dim),
        "num_videos": n,
        "shard_size": shard_size,
        "num_shards": (n + shard_size - 1) // shard_size,
        "class_names": list(manifest.class_names),
        "manifest": {
            "root": str(Path(manifest.root).resolve()),
            "sources": list(manifest.sources),
            "content_hash": settings["manifest"],
        },
        "rows": rows,
        "rows_sha256": rows_checksums(rows),
        "created_by": {"package_version": __version__},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _bad_from_shards(store: FeatureStore, meta: dict[str, Any]) -> list[BadVideo]:
    ids = meta["rows"]["video_ids"]
    bad: list[BadVideo] = []
    for index in range(int(meta["num_shards"])):
        _, _, shard_bad, _ = store.read_shard(index)
        bad.extend(BadVideo(ids[row], reason, row) for row, reason in shard_bad)
    return sorted(bad, key=lambda b: b.row)


# ---- the engine ------------------------------------------------------------------------------
class _Staging:
    """Preallocated uint8 input batch. On CUDA: two pinned buffers, so filling one overlaps the
    asynchronous copy of the other (an event guards reuse)."""

    def __init__(self, rows: int, clip_shape: tuple[int, ...], device: torch.device):
        import torch

        self.device = device
        self.cuda = device.type == "cuda"
        n = 2 if self.cuda else 1
        self.bufs = [torch.empty((rows, *clip_shape), dtype=torch.uint8, pin_memory=self.cuda) for _ in range(n)]
        self.views = [b.numpy() for b in self.bufs]
        self.events: list[Any] = [None] * n
        self.cur = 0

    def put(self, slot: int, clip_rows: slice, clip: Any) -> None:
        if slot == 0 and self.events[self.cur] is not None:
            self.events[self.cur].synchronize()
            self.events[self.cur] = None
        self.views[self.cur][clip_rows] = clip

    def take(self, rows: int) -> torch.Tensor:
        import torch

        x = self.bufs[self.cur][:rows]
        if not self.cuda:
            return x
        x = x.to(self.device, non_blocking=True)
        event = torch.cuda.Event()
        event.record()
        self.events[self.cur] = event
        self.cur = (self.cur + 1) % len(self.bufs)
        return x


def _check_finite(feats: Any, rows: list[int], manifest: Manifest, encoder: Encoder) -> None:
    """Refuse NaN/inf features before they reach a shard (e.g. from NaN weights)."""
    import numpy as np

    ok = np.isfinite(feats).all(axis=1)
    if ok.all():
        return
    bad = [manifest.records[rows[i]].video_id for i in np.flatnonzero(~ok)]
    raise EncoderError(
        f"encoder {encoder.name!r} produced non-finite features (NaN or inf) for {len(bad)} video(s), "
        f"first {bad[0]}; nothing was written for them (check the weights: {encoder.weights_sha256() or 'none'})"
    )


def _run_shards(
    store: FeatureStore, key: str, manifest: Manifest, encoder: Encoder, shards: list[tuple[int, int, int]],
    loader: ClipLoader, num_clips: int, num_frames: int, batch_size: int, workers: int, strict: bool,
    on_done: Callable[[int], None], known: dict[int, Any] | None = None,
    warnings: list[BadVideo] | None = None,
) -> int:
    """Decode, encode and store the given shards; returns how many videos were encoded.

    Rows in ``known`` (row -> feature vector, or the reason the video was bad) come from an
    earlier store and are written as they are, without decoding.
    """
    import numpy as np
    import torch

    from ..encoders.preprocess import normalize

    known = known or {}
    spec, dim, device = encoder.spec, int(encoder.feature_dim), encoder.device
    items = [
        (row, str(manifest.abspath(manifest.records[row])))
        for _, a, b in shards for row in range(a, b) if row not in known
    ]
    window = max(2 * batch_size, 4 * workers)
    stream = stream_clips(items, loader, min(workers, len(items)), window)
    staging = _Staging(batch_size * num_clips, (num_frames, spec.size, spec.size, 3), device)
    encoded = 0
    longest = max((b - a for _, a, b in shards), default=0)
    try:
        with torch.inference_mode():
            out = torch.empty((longest, dim), dtype=torch.float32, device=device)  # reused by every shard
            for index, start, stop in shards:
                rows: list[int] = []  # manifest row of each filled row of `out`, in order
                bad: list[tuple[int, str]] = []
                filled = 0  # rows of `out` written

                def flush(batch_rows: list[int]) -> None:
                    nonlocal filled, encoded
                    n = len(batch_rows)
                    y = encoder.encode(normalize(staging.take(n * num_clips), spec))
                    if tuple(y.shape) != (n * num_clips, dim):
                        raise EncoderError(
                            f"encoder {encoder.name!r} returned shape {tuple(y.shape)} for {n * num_clips} clips; "
                            f"expected ({n * num_clips}, {dim})"
                        )
                    if num_clips > 1:
                        y = y.reshape(n, num_clips, dim).mean(dim=1)
                    out[filled : filled + n] = y
                    filled += n
                    encoded += n
                    rows.extend(batch_rows)
                    batch_rows.clear()

                batch: list[int] = []
                for row in range(start, stop):
                    if row in known:
                        value = known[row]
                        if isinstance(value, str):
                            bad.append((row, value))
                        else:
                            out[filled] = torch.as_tensor(value, dtype=torch.float32).to(device)
                            filled += 1
                            rows.append(row)
                        on_done(1)
                        continue
                    got, clip, reason = next(stream)
                    if got != row:  # pragma: no cover - stream_clips keeps order
                        raise RuntimeError(f"decode stream out of order: got row {got}, expected {row}")
                    if clip is None:
                        if strict:
                            raise DecodeError(manifest.abspath(manifest.records[row]), reason or "unknown")
                        log.info("skipping %s: %s", manifest.records[row].video_id, reason)
                        bad.append((row, reason or "unknown"))
                        on_done(1)
                        continue
                    if reason and warnings is not None:
                        log.warning("%s: %s", manifest.records[row].video_id, reason)
                        warnings.append(BadVideo(manifest.records[row].video_id, reason, row))
                    i = len(batch)
                    staging.put(i, slice(i * num_clips, (i + 1) * num_clips),
                                clip.reshape(num_clips, num_frames, *clip.shape[1:]))
                    batch.append(row)
                    if len(batch) == batch_size:
                        flush(batch)
                        on_done(batch_size)
                if batch:
                    pending = len(batch)
                    flush(batch)
                    on_done(pending)
                feats = out[:filled].to("cpu", copy=True).numpy()  # the one device->host sync per shard
                _check_finite(feats, rows, manifest, encoder)
                store.write_shard(index, key, start, stop, feats, np.asarray(rows, dtype=np.int64), bad)
    finally:
        stream.close()
    return encoded


def extract_features(
    manifest: Manifest,
    encoder: Encoder,
    store_path: str | os.PathLike[str],
    sampler: Any = None,
    *,
    batch_size: int = 8,
    workers: int | str = "auto",
    device: str | None = None,
    strict: bool = False,
    progress: ProgressFn | None = None,
    overwrite: bool = False,
    shard_size: int = DEFAULT_SHARD_SIZE,
    decode_fn: Callable[..., Any] | None = None,
    engine: Any = "local",
) -> ExtractionReport:
    """Encode every video of ``manifest`` into the feature store at ``store_path``.

    sampler: a :class:`gesturebench.data.sampling.SamplerConfig` (default: 8-frame TSN, test mode).
    workers: decode processes (``auto``: one per core, at most 8; 0: decode in this process).
    device: move the encoder there first (``auto``/``cpu``/``cuda``...); None keeps the encoder's.
    strict: the first undecodable video fails the run (default: skip it and list it in the report).
    overwrite: replace a store made with other settings instead of refusing.
    shard_size: videos per shard (the unit of resumption; a resumed store keeps its shard size).
    decode_fn: ``decode_fn(path, sampler) -> uint8 (F, H, W, 3)``; default
        :func:`gesturebench.data.decode.decode_clip`. Must be picklable when ``workers > 0``.
    engine: ``"local"`` (this process and its decode workers), ``"ray"`` or a
        :class:`gesturebench.ray_cluster.RayEngine` (a Ray cluster; ``device`` is then the
        encoder actors' device). Both write the same store: either resumes the other's.

    An unchanged rerun is a cache hit that decodes and encodes nothing; an interrupted run
    resumes from its completed shards. Raises :class:`StoreError` if no video could be extracted.
    """
    t0 = time.perf_counter()
    from ..fileio import output_problem

    problem = output_problem(store_path, "folder")
    if problem:
        raise StoreError(f"--out {problem}; a feature store is a folder")
    if sampler is None:
        from ..data.sampling import SamplerConfig

        sampler = SamplerConfig()
    if decode_fn is None:
        from ..data.decode import decode_clip as decode_fn
    check_positive_int("batch_size", batch_size)
    check_positive_int("shard_size", shard_size)
    workers = resolve_workers(workers)
    if device is not None and engine == "local":
        from ..runtime import resolve_device

        encoder.to(resolve_device(device))
    if len(manifest) == 0:
        raise ConfigError("the manifest lists no videos; nothing to extract")
    check_frames_cap(sampler)
    _check_frames(encoder, sampler)
    num_clips = int(getattr(sampler, "num_clips", 1) or 1)
    num_frames = int(sampler.num_frames)

    run_shards: Any = _run_shards
    if engine != "local":  # the Ray engine places the encoder on its actors (features/ray_engine.py)
        from .ray_engine import ray_shard_runner

        run_shards = ray_shard_runner(engine, encoder, device)
    settings = extraction_settings(manifest, encoder, sampler, decode_fn, getattr(run_shards, "precision", None))
    key = cache_key(settings)
    store = FeatureStore(store_path)
    total = len(manifest)
    notify: ProgressFn = progress or (lambda done, tot: None)
    report = ExtractionReport(
        store_path=store.path, key=key, total=total, workers=workers, batch_size=batch_size,
        device=str(getattr(run_shards, "device", encoder.device)),
    )

    with store.lock():
        plan = prepare_store(
            store, key, settings, manifest, overwrite,
            lambda: _new_meta(key, settings, manifest, encoder, shard_size), files_fingerprint,
        )
        meta, report.action, report.note = plan.meta, plan.action, plan.note
        if plan.note:
            log.warning("%s: %s", store.path, plan.note)
        if plan.action == "cached":
            report.cached = True
            report.reused = total
            report.bad = [BadVideo(b["video_id"], b["reason"], int(b["row"])) for b in meta.get("bad", [])]
            report.seconds = time.perf_counter() - t0
            notify(total, total)
            log.info("cache hit: %s already holds these features (key %s)", store.path, key[:12])
            return report

        size = int(meta["shard_size"])
        shards = [(i, i * size, min(total, (i + 1) * size)) for i in range(int(meta["num_shards"]))]
        dim = int(encoder.feature_dim)
        pending = [s for s in shards if plan.known or not store.shard_is_valid(s[0], key, s[1], s[2], dim)]
        to_compute = sum(b - a for _, a, b in pending) - len(plan.known)
        report.reused = total - to_compute
        check_resources(encoder, sampler, batch_size, workers, to_compute, store.path)
        store.remove_temporaries()
        done = total - sum(b - a for _, a, b in pending)
        notify(done, total)

        def on_done(n: int) -> None:
            nonlocal done
            done += n
            notify(done, total)

        loader = ClipLoader(decode_fn, sampler, encoder.spec, num_clips * num_frames)
        report.computed = run_shards(
            store, key, manifest, encoder, pending, loader, num_clips, num_frames, batch_size, workers, strict,
            on_done, plan.known, report.warnings,
        )
        report.bad = _bad_from_shards(store, meta)
        report.seconds = time.perf_counter() - t0
        if report.extracted == 0:
            first = report.bad[0]
            raise StoreError(
                f"nothing could be extracted: all {total} videos failed to decode "
                f"(first: {first.video_id}: {first.reason})"
            )
        meta.update(
            status="complete",
            bad=[b._asdict() for b in report.bad],
            shards=store.checksums(int(meta["num_shards"])),
            report=report.to_dict(),
            finished=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        )
        store.write_meta(meta)
    return report


__all__ = ["BadVideo", "ExtractionReport", "extract_features", "extraction_settings", "compute_precision"]
