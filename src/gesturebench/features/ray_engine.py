"""``extract --engine ray``: decode on the cluster's CPUs, encode in batches on encoder
actors (GPUs where the cluster has them), and store every shard from this process.

Only the hot loop moves to Ray. Store preparation, the cache key, resumption and the
final metadata stay in :func:`gesturebench.features.extract.extract_features`; this
module supplies a drop-in for its shard loop, so both engines write the same store
through one writer (:meth:`FeatureStore.write_shard`, atomic, called only here in the
driver) and a store started by one engine is resumed by the other.

Data flow (one shard of ``shard_size`` rows, in blocks of ``batch_size`` rows)::

    decode task (1 CPU) per block: ClipLoader -> statuses (small) + stacked uint8 clips
        | the driver reads the statuses in row order and forms the *same* batches as
        | the local engine (consecutive decodable rows of one shard, batch_size each)
    encoder actor: normalize -> encoder.encode -> float32 (n, D)     [GPU or CPU]
        | when every batch of a shard is back
    driver: FeatureStore.write_shard(index, key, start, stop, features, rows, bad)

Why it is bit-identical to the local engine on CPU: the clips come from the same
:class:`ClipLoader`, batches hold the same rows in the same order, the actor runs the
same normalise/encode/average code with the same torch thread count, and features
cross process boundaries as float32 arrays (no conversion). Clips travel decode task
-> actor through the object store, never through the driver; at most ``window``
blocks are in flight, so memory stays bounded however long the manifest is.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, DecodeError, EncoderError
from ..ray_cluster import RayEngine, connect, reraise_remote, resolve_engine

if TYPE_CHECKING:
    from ..encoders.base import Encoder
    from ..types import Manifest
    from .loader import ClipLoader
    from .store import FeatureStore

log = logging.getLogger(__name__)


# ---- remote code (runs in Ray workers) -------------------------------------------------------
def decode_block(
    loader: ClipLoader, items: list[tuple[int, str]]
) -> tuple[list[tuple[int, str | None, str | None]], np.ndarray]:
    """Decode one block: ``[(row, why it is bad or None, a warning or None)]`` in row order, and
    the good clips stacked."""
    import cv2

    cv2.setNumThreads(1)  # one core per task, as in the local decode workers
    statuses: list[tuple[int, str | None, str | None]] = []
    clips = []
    for row, path in items:
        _, clip, reason = loader(row, path)
        if clip is None:
            statuses.append((row, reason or "unknown", None))
        else:
            statuses.append((row, None, reason))  # a usable video may come with a warning
            clips.append(clip)
    return statuses, (np.stack(clips) if clips else np.zeros((0,), dtype=np.uint8))


class EncodeActor:
    """One encoder replica. ``encode(plan, *blocks)`` encodes one batch and returns float32 (n, D)."""

    def __init__(self, encoder: Encoder, device: str, precision: str | None, threads: int | None,
                 num_clips: int, num_frames: int) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)  # Ray sets OMP_NUM_THREADS=1; the local engine uses all cores
        if precision is not None and hasattr(encoder, "precision"):
            encoder.precision = precision  # what the store's settings record (see ray_shard_runner)
        self.encoder = encoder
        self.encoder.to(device)
        self.num_clips, self.num_frames = num_clips, num_frames

    def encode(self, plan: list[tuple[int, int]], *blocks: np.ndarray) -> np.ndarray:
        import torch

        from ..encoders.preprocess import normalize

        enc, nc, nf = self.encoder, self.num_clips, self.num_frames
        spec, dim, n = enc.spec, int(enc.feature_dim), len(plan)
        x = np.empty((n * nc, nf, spec.size, spec.size, 3), dtype=np.uint8)
        for i, (b, j) in enumerate(plan):
            x[i * nc : (i + 1) * nc] = blocks[b][j].reshape(nc, nf, *blocks[b][j].shape[1:])
        with torch.inference_mode():
            batch = torch.from_numpy(x)
            if enc.device.type != "cpu":
                batch = batch.pin_memory().to(enc.device, non_blocking=True)
            y = enc.encode(normalize(batch, spec))
            if tuple(y.shape) != (n * nc, dim):
                raise EncoderError(
                    f"encoder {enc.name!r} returned shape {tuple(y.shape)} for {n * nc} clips; "
                    f"expected ({n * nc}, {dim})"
                )
            if nc > 1:
                y = y.reshape(n, nc, dim).mean(dim=1)
            return y.to(device="cpu", dtype=torch.float32).numpy()

    def device(self) -> str:
        return str(self.encoder.device)


# ---- the driver side -------------------------------------------------------------------------
def _actor_device(ray: Any, device: str | None) -> str:
    """Where the encoder actors run: a GPU per actor when asked for (or ``auto``) and present."""
    gpus = float(ray.cluster_resources().get("GPU", 0))
    base = (device or "auto").split(":", 1)[0]
    if base == "auto":
        return "cuda" if gpus >= 1 else "cpu"
    if base == "cpu":
        return "cpu"
    if base == "cuda":
        if gpus < 1:
            raise ConfigError(f"--device {device} requested but the Ray cluster has no GPUs; use --device cpu or auto")
        return "cuda"  # each actor sees only its own GPU (Ray sets CUDA_VISIBLE_DEVICES)
    raise ConfigError(f"--engine ray runs encoders on cpu or cuda; got --device {device!r} (allowed: auto, cpu, cuda)")


class RayShardRunner:
    """A drop-in for the local engine's shard loop (same call, same store writes)."""

    def __init__(self, cfg: RayEngine, encoder: Encoder, device: str | None):
        import torch

        self.cfg = cfg
        self.ray = connect(cfg)
        self.device = _actor_device(self.ray, device)
        self.gpus = 1 if self.device == "cuda" else 0
        # The store records the precision the actors will use. For TorchEncoders left on
        # "auto", that depends on the actors' device, not on the driver's (often a CPU).
        precision = getattr(encoder, "precision", None)
        if precision == "auto":
            self.precision: str | None = "bf16" if self.device == "cuda" else "fp32"
        else:
            self.precision = None if precision is None else str(precision)
        self.threads = cfg.encode_threads or (None if self.gpus else torch.get_num_threads())
        if cfg.encode_actors:
            self.actors = cfg.encode_actors
        elif self.gpus:
            self.actors = max(1, int(float(self.ray.cluster_resources().get("GPU", 1))))
        else:
            self.actors = 1
        cpus = int(float(self.ray.cluster_resources().get("CPU", 1)))
        self.window = cfg.window or max(4, 2 * cpus)

    def __call__(
        self, store: FeatureStore, key: str, manifest: Manifest, encoder: Encoder, shards: list[tuple[int, int, int]],
        loader: ClipLoader, num_clips: int, num_frames: int, batch_size: int, workers: int, strict: bool,
        on_done: Callable[[int], None], known: dict[int, Any] | None = None,
        warnings: list[Any] | None = None,
    ) -> int:
        """Decode, encode and store ``shards``; returns how many videos were encoded.

        Rows in ``known`` (row -> feature vector, or the reason the video was bad) come from an
        earlier store and are written as they are, without decoding, in the place the local
        engine puts them. Videos that decoded with a warning are appended to ``warnings``.
        """
        from .extract import BadVideo, _check_finite

        if not shards:
            return 0
        known = known or {}
        ray, dim = self.ray, int(encoder.feature_dim)
        remote_decode = ray.remote(num_cpus=1)(decode_block)
        actor_cls = ray.remote(EncodeActor)
        loader_ref, encoder_ref = ray.put(loader), ray.put(encoder)
        resources: dict[str, Any] = {"num_gpus": self.gpus} if self.gpus else {}
        actors = [
            actor_cls.options(**resources).remote(
                encoder_ref, self.device, self.precision, self.threads, num_clips, num_frames
            )
            for _ in range(self.actors)
        ]
        load = [0] * len(actors)
        log.info("Ray engine: %d encoder actor(s) on %s, window %d blocks", len(actors), self.device, self.window)

        # Units in row order: decode blocks of at most batch_size rows that need decoding, never
        # across a shard; a shard with nothing to decode is one unit without a block.
        units: list[tuple[int, list[tuple[int, str]], bool]] = []  # (shard, block items, last of shard)
        for index, start, stop in shards:
            todo = [r for r in range(start, stop) if r not in known]
            if not todo:
                units.append((index, [], True))
            for a in range(0, len(todo), batch_size):
                rows = todo[a : a + batch_size]
                items = [(r, str(manifest.abspath(manifest.records[r]))) for r in rows]
                units.append((index, items, a + batch_size >= len(todo)))
        bounds = {index: (start, stop) for index, start, stop in shards}
        cursor = {index: start for index, start, _ in shards}  # next row of the shard to take

        decoding: deque[tuple[int, bool, Any, Any]] = deque()  # (shard, last unit of it, statuses, clips)
        inflight: dict[Any, tuple[int, int]] = {}  # encode ref -> (shard index, actor)
        parts: dict[int, list[list[Any]]] = {}  # shard -> [[ref | None, rows, features | None]] in store order
        bad: dict[int, list[tuple[int, str]]] = {}
        closed: set[int] = set()
        pending: list[tuple[Any, int, int]] = []  # (clips ref, position in block, row) of the open batch
        encoded, next_unit = 0, 0

        def submit(index: int) -> None:
            refs = list(dict.fromkeys(ref for ref, _, _ in pending))  # unique, in order
            plan = [(refs.index(ref), j) for ref, j, _ in pending]
            a = min(range(len(actors)), key=load.__getitem__)
            ref = actors[a].encode.remote(plan, *refs)
            load[a] += 1
            inflight[ref] = (index, a)
            parts.setdefault(index, []).append([ref, [row for _, _, row in pending], None])
            pending.clear()

        def take_known(index: int, until: int) -> None:
            """Rows before ``until`` that an earlier store already answered (as the local loop does)."""
            for row in range(cursor[index], until):
                value = known[row]
                if isinstance(value, str):
                    bad.setdefault(index, []).append((row, value))
                else:
                    feat = np.asarray(value, dtype=np.float32).reshape(1, dim)
                    parts.setdefault(index, []).append([None, [row], feat])
                on_done(1)
            cursor[index] = max(cursor[index], until)

        def take_unit(index: int, last: bool, status_ref: Any, clips_ref: Any) -> None:
            position = 0  # index of the next decodable row's clip in this block's stacked array
            for row, reason, warning in (ray.get(status_ref) if status_ref is not None else []):
                take_known(index, row)
                cursor[index] = row + 1
                if reason is not None:
                    if strict:
                        raise DecodeError(manifest.abspath(manifest.records[row]), reason)
                    log.info("skipping %s: %s", manifest.records[row].video_id, reason)
                    bad.setdefault(index, []).append((row, reason))
                    on_done(1)
                    continue
                if warning and warnings is not None:
                    log.warning("%s: %s", manifest.records[row].video_id, warning)
                    warnings.append(BadVideo(manifest.records[row].video_id, warning, row))
                pending.append((clips_ref, position, row))
                position += 1
                if len(pending) == batch_size:
                    submit(index)
            if last:
                take_known(index, bounds[index][1])
                if pending:
                    submit(index)
                closed.add(index)

        def write_ready() -> None:
            for index in sorted(closed):
                done = parts.get(index, [])
                if any(p[2] is None for p in done):
                    continue
                start, stop = bounds[index]
                feats = np.concatenate([p[2] for p in done]) if done else np.zeros((0, dim), dtype=np.float32)
                rows = [r for p in done for r in p[1]]
                _check_finite(feats, rows, manifest, encoder)
                store.write_shard(index, key, start, stop, feats, np.asarray(rows, dtype=np.int64), bad.pop(index, []))
                closed.discard(index)
                parts.pop(index, None)

        try:
            while True:
                while next_unit < len(units) and len(decoding) + len(inflight) < self.window:
                    index, items, last = units[next_unit]
                    if items:
                        status_ref, clips_ref = remote_decode.options(num_returns=2).remote(loader_ref, items)
                    else:
                        status_ref = clips_ref = None
                    decoding.append((index, last, status_ref, clips_ref))
                    next_unit += 1
                if not decoding and not inflight:
                    break
                waiting = ([decoding[0][2]] if decoding and decoding[0][2] is not None else []) + list(inflight)
                if waiting:
                    ray.wait(waiting, num_returns=1)  # block until something is ready, then take all that is
                    for ref in ray.wait(waiting, num_returns=len(waiting), timeout=0)[0]:
                        if ref in inflight:
                            index, a = inflight.pop(ref)
                            load[a] -= 1
                            part = next(p for p in parts[index] if p[0] is not None and p[0] == ref)
                            part[2] = ray.get(ref)
                            part[0] = None  # drop the reference; its clips can leave the object store
                            encoded += len(part[1])
                            on_done(len(part[1]))
                # Units are consumed strictly in row order, so batches match the local engine's.
                while decoding and (decoding[0][2] is None or ray.wait([decoding[0][2]], timeout=0)[0]):
                    take_unit(*decoding.popleft())
                write_ready()
        except Exception as exc:
            reraise_remote(exc)
            raise
        finally:
            for ref in list(inflight):
                ray.cancel(ref)
            for _, _, status_ref, _ in decoding:
                if status_ref is not None:
                    ray.cancel(status_ref)
            for actor in actors:
                ray.kill(actor)
        return encoded


def ray_shard_runner(engine: str | RayEngine, encoder: Encoder, device: str | None) -> RayShardRunner:
    """Connect to the cluster ``engine`` names and return the shard loop that runs on it.

    The runner's ``device`` is where the encoder actors run and ``precision`` what they
    compute in (None: the encoder has no precision setting); the store records both.
    """
    cfg = resolve_engine(engine)
    if cfg is None:
        raise ConfigError("ray_shard_runner needs a Ray engine; the local engine is extract.py's own loop")
    return RayShardRunner(cfg, encoder, device)


__all__ = ["RayShardRunner", "ray_shard_runner", "decode_block", "EncodeActor"]
