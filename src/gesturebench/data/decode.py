"""Video decoding with PyAV: exact frame indices, uint8 RGB, decode only what is needed.

Frame indexing
    Frame ``i`` is the ``i``-th frame in presentation order, counted from the
    first decodable frame. The frame count is the number of non-empty video
    packets the demuxer actually finds in the file (demuxing reads packets
    without decoding them), never ``fps * duration``: that product is wrong for
    variable-frame-rate video and for containers whose header is stale. If an
    MP4/MOV sample table lists *more* frames than are present, the file is
    truncated and :class:`DecodeError` is raised (other containers: the
    packets are trusted and a warning is logged).

Two decode paths give byte-identical frames:

* sequential: decode from the start and stop after the last needed index;
* seek: for each group of needed frames, seek to the keyframe before them and
  decode forward from there. Used only where packet timestamps identify
  frames reliably (MP4/MOV, Matroska/WebM) and is self-checking: if a frame
  after a seek is not the one the index predicts, the read falls back to the
  sequential path.

``method="auto"`` (the default) plans, per video, the cheapest mix: before
each group of needed frames in a later GOP it seeks when
``SEEK_COST_FRAMES + (frames from that keyframe)`` is smaller than the frames
between the current position and the group. ``SEEK_COST_FRAMES`` was measured
by ``benchmarks/decode_seek.py`` (see docs/data.md).

Rotation metadata (the display matrix, as PyAV reports it in
``VideoFrame.rotation``, counter-clockwise degrees; else a legacy ``rotate``
stream tag, clockwise) is applied in multiples of 90 degrees, so portrait
phone video comes out portrait.

Every failure (missing, empty, not a video, truncated, corrupt, unreadable)
raises :class:`DecodeError` naming the file and the reason.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, DecodeError, GesturebenchError
from .sampling import SamplerConfig

log = logging.getLogger(__name__)

#: Fixed overhead of one seek in units of one decoded frame: demuxer seek,
#: decoder flush, the keyframe's extra cost and refilling the B-frame reorder
#: delay. benchmarks/decode_seek.py measured 6-12 on H.264 from 340x256 to
#: 720p (medians ~7-8; docs/data.md); 8 sits in the middle.
SEEK_COST_FRAMES = 8.0

#: Containers whose packet timestamps are presentation timestamps we can seek
#: by. AVI stores decode order only (B-frame pts are synthesised wrongly), GIF
#: and image sequences cannot seek: they always decode sequentially.
SEEKABLE_FORMATS = frozenset({"mov", "mp4", "m4a", "3gp", "3g2", "mj2", "matroska", "webm"})

METHODS = ("auto", "sequential", "seek")

__all__ = ["METHODS", "SEEK_COST_FRAMES", "VideoInfo", "decode_clip", "plan_reads", "probe", "read_frames"]


@dataclass(frozen=True)
class VideoInfo:
    """What :func:`probe` learns about a video.

    ``width``/``height`` are of the frames :func:`read_frames` returns, i.e.
    after rotation; ``rotation`` is the counter-clockwise degrees applied.
    ``num_frames`` is counted from packets (see module docs); ``fps`` is the
    container's average rate (``num_frames / duration`` when missing).
    """

    num_frames: int
    fps: float
    width: int
    height: int
    rotation: int
    duration: float
    codec: str
    pix_fmt: str
    container: str = ""
    num_keyframes: int = 0
    header_frames: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Index:
    """Per-video frame index built by demuxing: presentation pts and keyframes."""

    count: int
    pts: tuple[int, ...] | None  # sorted presentation pts, one per frame; None: unusable
    keyframes: tuple[int, ...]  # presentation indices of keyframes, sorted, starts with 0
    seekable: bool
    header_frames: int
    container: str


def _av() -> Any:
    import av  # deferred: keeps `import gesturebench.data` light

    return av


@contextmanager
def _guard(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn every failure inside into DecodeError(path, reason)."""
    try:
        yield
    except (DecodeError, ConfigError):
        raise
    except GesturebenchError as exc:  # pragma: no cover - defensive
        raise DecodeError(path, str(exc)) from exc
    except MemoryError as exc:
        raise DecodeError(path, "out of memory while decoding") from exc
    except Exception as exc:  # av.error.*, OSError, ValueError, EOFError, ...
        raise DecodeError(path, _reason(exc)) from exc


def _reason(exc: BaseException) -> str:
    av = _av()
    if isinstance(exc, av.error.InvalidDataError):
        return "not a readable video (invalid data: corrupt, truncated or not a video file)"
    if isinstance(exc, (av.error.FFmpegError,)):
        msg = getattr(exc, "strerror", None) or str(exc)
        return f"decoder error: {msg}"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a video file"
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DecodeError(path, "file not found")
    if path.is_dir():
        raise DecodeError(path, "is a directory, not a video file")
    if not os.access(path, os.R_OK):
        raise DecodeError(path, "permission denied")
    if path.stat().st_size == 0:
        raise DecodeError(path, "empty file (0 bytes)")


def _open(path: Path, threads: int = 1) -> tuple[Any, Any]:
    av = _av()
    container = av.open(str(path), mode="r")
    if not container.streams.video:
        container.close()
        raise DecodeError(path, "no video stream")
    stream = container.streams.video[0]
    # One thread per decoder: parallelism comes from decoding videos in worker
    # processes, and slice/frame threads only contend on a small machine.
    stream.thread_count = max(0, int(threads))
    return container, stream


def _format_name(container: Any) -> str:
    return str(getattr(container.format, "name", "") or "")


def _build_index(path: Path, container: Any, stream: Any) -> _Index:
    """Demux every video packet (no decoding) to count frames and find keyframes."""
    pts_list: list[int | None] = []
    key_pts: list[int | None] = []
    for packet in container.demux(stream):
        if packet.size == 0:  # flush packet at EOF
            continue
        pts_list.append(packet.pts)
        if packet.is_keyframe:
            key_pts.append(packet.pts)
    count = len(pts_list)
    header = int(stream.frames or 0)
    if count == 0:
        raise DecodeError(path, "no video frames in file")
    fmt = _format_name(container)
    if header > count:
        if "mp4" in fmt.split(","):
            # MP4/MOV index every sample with its size: fewer packets than samples
            # means the data ran out.
            raise DecodeError(path, f"truncated: container lists {header} frames but only {count} are present")
        # Elsewhere (e.g. AVI, whose empty "dropped frame" packets carry no picture)
        # a larger header count is not proof of damage: trust the packets.
        log.warning("%s: header lists %d frames, %d packets found; using %d", path, header, count, count)
    pts: tuple[int, ...] | None = None
    keyframes: tuple[int, ...] = (0,)
    if all(p is not None for p in pts_list) and len(set(pts_list)) == count:
        pts = tuple(sorted(pts_list))  # type: ignore[arg-type]
        where = {p: i for i, p in enumerate(pts)}
        keyframes = tuple(sorted({0} | {where[p] for p in key_pts if p in where}))
    seekable = pts is not None and any(part in SEEKABLE_FORMATS for part in fmt.split(",")) and len(keyframes) > 1
    return _Index(count, pts, keyframes, seekable, header, fmt)


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Inspect a video: frame count (by demuxing), size after rotation, codec, rate.

    Decodes the first frame to read the rotation and prove the stream decodes.
    """
    p = Path(path)
    _check_file(p)
    with _guard(p):
        container, stream = _open(p)
        try:
            index = _build_index(p, container, stream)
        finally:
            container.close()
        container, stream = _open(p)
        try:
            first = next(iter(container.decode(stream)), None)
            if first is None:
                raise DecodeError(p, "no decodable frames")
            rotation = _rotation(first, stream.metadata.get("rotate"))
            w, h = int(first.width), int(first.height)
            cc = stream.codec_context
            pix_fmt = str(cc.pix_fmt or first.format.name)
            codec = str(cc.name)
            duration = 0.0
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = float(container.duration) / 1_000_000
            rate = stream.average_rate or stream.guessed_rate
            fps = float(rate) if rate else (index.count / duration if duration > 0 else 0.0)
        finally:
            container.close()
    if rotation in (90, 270):
        w, h = h, w
    return VideoInfo(
        num_frames=index.count,
        fps=fps,
        width=w,
        height=h,
        rotation=rotation,
        duration=duration,
        codec=codec,
        pix_fmt=pix_fmt,
        container=index.container,
        num_keyframes=len(index.keyframes),
        header_frames=index.header_frames,
    )


def _rotation(frame: Any, stream_tag: object = None) -> int:
    """Counter-clockwise display rotation, snapped to 0/90/180/270.

    The frame's display matrix wins; without one, a legacy ``rotate`` stream
    tag (clockwise degrees, written by old phones and FFmpeg < 5) is used.
    """
    try:
        deg = float(getattr(frame, "rotation", 0) or 0)
        if not deg and stream_tag not in (None, ""):
            deg = -float(str(stream_tag))
    except (TypeError, ValueError):
        return 0
    return int(round(deg / 90.0)) % 4 * 90


def _to_rgb(frame: Any, size: tuple[int, int] | None, rotate_tag: object = None) -> np.ndarray:
    if size is None or (frame.width, frame.height) == size:
        arr = frame.to_ndarray(format="rgb24")
    else:  # a stream that changes size mid-way: keep the first frame's size
        arr = frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
    k = _rotation(frame, rotate_tag) // 90
    return np.ascontiguousarray(np.rot90(arr, k=k)) if k else arr


def _normalise_indices(indices: Sequence[int] | np.ndarray) -> np.ndarray:
    idx = np.asarray(indices)
    if idx.ndim != 1:
        raise ConfigError(f"indices must be 1-D; got shape {idx.shape}")
    if idx.size and not np.issubdtype(idx.dtype, np.integer):
        raise ConfigError(f"indices must be integers; got dtype {idx.dtype}")
    idx = idx.astype(np.int64, copy=False)
    if idx.size and idx.min() < 0:
        raise ConfigError(f"indices must be >= 0; got {int(idx.min())}")
    return idx


def plan_reads(
    needed: Sequence[int], keyframes: Sequence[int], seek_cost: float = SEEK_COST_FRAMES
) -> list[tuple[int, int]]:
    """Cheapest decode plan for sorted unique ``needed`` indices.

    Returns ``(start, stop)`` runs (inclusive): decoding starts at keyframe
    ``start`` (a seek, unless it continues the previous run) and stops after
    frame ``stop``. A new run is opened before a group of needed frames in a
    later GOP when ``seek_cost + (last - keyframe + 1)`` beats continuing
    (``last - position``). ``seek_cost=inf`` gives the sequential plan
    ``[(0, last)]``; ``seek_cost=0`` seeks whenever a group is in a new GOP.
    """
    kf = np.asarray(keyframes, dtype=np.int64)
    groups: dict[int, int] = {}  # keyframe -> last needed frame in its GOP
    for i in needed:
        k = int(kf[np.searchsorted(kf, i, side="right") - 1]) if kf.size else 0
        groups[k] = max(groups.get(k, i), i)
    runs: list[tuple[int, int]] = []
    pos = -1  # last decoded frame; -1: at the start of the file, no seek needed
    for k, last in groups.items():
        continue_cost = last - pos
        seek_total = seek_cost + (last - k + 1)
        if k > pos and seek_total < continue_cost:
            runs.append((k, last))
        elif runs:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((0, last))
        pos = last
    return runs


def _checked(path: Path, frames: Iterator[Any], where: Any) -> Iterator[Any]:
    """Re-raise decoder errors with the frame position they happened at."""
    av = _av()
    it = iter(frames)
    while True:
        try:
            frame = next(it)
        except StopIteration:
            return
        except av.error.FFmpegError as exc:
            msg = getattr(exc, "strerror", None) or str(exc)
            raise DecodeError(path, f"corrupt data at frame {where()}: {msg}") from exc
        yield frame


class _SeekMismatch(Exception):
    """A frame after a seek was not the one the index predicted."""


def _pts_reliable(index: _Index) -> bool:
    """Packet pts identify frames (MP4/MOV, Matroska/WebM): a frame's position can be read off its pts."""
    return index.pts is not None and any(f in SEEKABLE_FORMATS for f in index.container.split(","))


def _packet_frames(container: Any, stream: Any, corrupt: list[Any]) -> Iterator[Any]:
    """Decode packet by packet; a packet the decoder rejects is noted (its pts) and skipped.

    ``container.decode`` would end the whole read at the first corrupt packet; decoding
    each packet keeps the rest of the video usable.
    """
    av = _av()
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.error.InvalidDataError:
            corrupt.append(packet.pts)
            continue
        yield from frames


def _decode_runs(
    path: Path,
    index: _Index,
    runs: list[tuple[int, int]],
    wanted: set[int],
    threads: int,
    opened: tuple[Any, Any] | None = None,
    corrupt: list[int] | None = None,
) -> dict[int, np.ndarray]:
    """Decode the planned runs; ``opened`` is a container rewound to frame 0 (closed here).

    With ``corrupt`` (a list) and pts that identify frames, frames are placed by their pts
    and a corrupt packet is skipped, its frame index appended to ``corrupt``; otherwise
    frames are counted and the first corrupt packet is a :class:`DecodeError`.
    """
    container, stream = opened if opened is not None else _open(path, threads)
    out: dict[int, np.ndarray] = {}
    size: tuple[int, int] | None = None
    rotate_tag = stream.metadata.get("rotate")
    tolerant = corrupt is not None and _pts_reliable(index)
    where = {p: i for i, p in enumerate(index.pts)} if tolerant and index.pts is not None else {}
    bad_pts: list[Any] = []
    try:
        for start, stop in runs:
            if start == 0:
                pos = 0
                frames = _packet_frames(container, stream, bad_pts) if tolerant else container.decode(stream)
                # A rewound container is checked like a seek; a fresh one is the reference.
                expect_pts = index.pts if opened is not None else None
            else:
                if index.pts is None:  # pragma: no cover - plan_reads only seeks when seekable
                    raise _SeekMismatch("no pts index")
                target = index.pts[start]
                log.debug("%s: seek to keyframe %d for frames up to %d", path, start, stop)
                container.seek(target, stream=stream, backward=True, any_frame=False)
                pos = start
                frames = _packet_frames(container, stream, bad_pts) if tolerant else container.decode(stream)
                expect_pts = index.pts
            for frame in _checked(path, frames, lambda: pos):
                if tolerant:
                    found = where.get(frame.pts)
                    if found is None:
                        raise _SeekMismatch(f"frame pts {frame.pts} is not in the index")
                    if found < start:
                        continue  # leading frame of an open GOP; belongs before `start`
                    pos = found
                elif expect_pts is not None:
                    if frame.pts is not None and frame.pts < expect_pts[start]:
                        continue  # leading frame of an open GOP; belongs before `start`
                    if pos >= len(expect_pts) or frame.pts != expect_pts[pos]:
                        raise _SeekMismatch(f"frame {pos}: pts {frame.pts} != {expect_pts[pos]}")
                if pos in wanted:
                    if size is None:
                        size = (frame.width, frame.height)
                    out[pos] = _to_rgb(frame, size, rotate_tag)
                if pos >= stop:
                    break
                pos += 1
    finally:
        container.close()
    if corrupt is not None:
        corrupt.extend(sorted({where[p] for p in bad_pts if p in where}))
    return out


def _index_and_rewind(path: Path, threads: int) -> tuple[_Index, tuple[Any, Any] | None]:
    """Build the index; return the container rewound to frame 0 when that is reliable.

    Reusing the container saves a second open (FFmpeg probes stream info on
    every open: ~2 ms for a 224x224 clip, ~30 ms for 720p). Only MP4/MOV and
    Matroska rewind (their pts identify frames); other formats are reopened.
    """
    container, stream = _open(path, threads)
    try:
        index = _build_index(path, container, stream)
        rewindable = index.pts is not None and any(f in SEEKABLE_FORMATS for f in index.container.split(","))
        if rewindable:
            container.seek(index.pts[0], stream=stream, backward=True, any_frame=False)
            return index, (container, stream)
    except BaseException:
        container.close()
        raise
    container.close()
    return index, None


def _read(
    p: Path, idx: np.ndarray, method: str, threads: int, index: _Index, opened: tuple[Any, Any] | None
) -> np.ndarray:
    try:
        if idx.size == 0:
            return np.zeros((0, 0, 0, 3), dtype=np.uint8)
        clamped = np.minimum(idx, index.count - 1)
        needed = sorted(set(clamped.tolist()))
        if method == "sequential" or not index.seekable:
            cost = float("inf")
        elif method == "seek":
            cost = 0.0
        else:
            cost = SEEK_COST_FRAMES
        runs = plan_reads(needed, index.keyframes, cost)
        corrupt: list[int] = []
        try:
            got = _decode_runs(p, index, runs, set(needed), threads, opened, corrupt)
        except _SeekMismatch as exc:
            log.info("%s: seek index mismatch (%s); decoding sequentially", p, exc)
            corrupt = []
            got = _decode_runs(p, index, [(0, needed[-1])], set(needed), threads)
        finally:
            opened = None  # _decode_runs closed it
    finally:
        if opened is not None:
            opened[0].close()
    if not got:
        raise DecodeError(p, "no decodable frames")
    hit = sorted(set(corrupt) & set(needed))
    if hit:
        raise DecodeError(p, f"corrupt data at frame {hit[0]}, one of the sampled frames")
    if corrupt:
        shown = ", ".join(map(str, corrupt[:5])) + (" ..." if len(corrupt) > 5 else "")
        log.warning("%d corrupt frame(s) (%s) skipped; the %d sampled frames decode and are used",
                    len(corrupt), shown, len(needed))
    if len(got) < len(needed):
        # Fewer decodable frames than packets: the tail is corrupt. Repeat
        # the last good frame only if the missing ones are at the very end.
        last_good = max(got)
        missing = [i for i in needed if i not in got]
        if min(missing) < last_good:
            raise DecodeError(p, f"frame {min(missing)} could not be decoded")
        log.warning("%s: frames %d.. not decodable; repeating frame %d", p, min(missing), last_good)
        for i in missing:
            got[i] = got[last_good]
    first = got[needed[0]]
    out = np.empty((idx.size, *first.shape), dtype=np.uint8)
    for j, i in enumerate(clamped.tolist()):
        frame = got[i]
        if frame.shape != first.shape:
            raise DecodeError(p, f"frame {i} has shape {frame.shape}, expected {first.shape}")
        out[j] = frame
    return out


def read_frames(
    path: str | os.PathLike[str],
    indices: Sequence[int] | np.ndarray,
    *,
    method: str = "auto",
    threads: int = 1,
    _index: _Index | None = None,
) -> np.ndarray:
    """Decode frames ``indices`` (any order, repeats allowed) as uint8 RGB ``(len, H, W, 3)``.

    Indices at or beyond the frame count repeat the last frame (the
    short-video policy of :mod:`gesturebench.data.sampling`). ``method`` is
    ``auto`` (cost-based plan), ``sequential`` or ``seek`` (seek at every
    GOP change; containers that cannot seek decode sequentially); all give the
    same bytes. Raises :class:`DecodeError` for any unreadable file.
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    p = Path(path)
    idx = _normalise_indices(indices)
    _check_file(p)
    with _guard(p):
        if _index is not None:
            return _read(p, idx, method, threads, _index, None)
        index, opened = _index_and_rewind(p, threads)
        return _read(p, idx, method, threads, index, opened)


def decode_clip(
    path: str | os.PathLike[str],
    sampler: SamplerConfig | None = None,
    *,
    salt: object = None,
    method: str = "auto",
    threads: int = 1,
) -> np.ndarray:
    """Count frames, sample indices with ``sampler``, decode them (one open of the file).

    Returns ``(T, H, W, 3)`` uint8 for one clip, ``(num_clips, T, H, W, 3)``
    when ``sampler.num_clips > 1``. ``salt`` seeds train-mode sampling per
    video (e.g. the video id).
    """
    if method not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
    sampler = sampler or SamplerConfig()
    p = Path(path)
    _check_file(p)
    with _guard(p):
        index, opened = _index_and_rewind(p, threads)
        try:
            idx = sampler.indices(index.count, salt=salt)
        except BaseException:
            if opened is not None:
                opened[0].close()
            raise
        frames = _read(p, idx.reshape(-1), method, threads, index, opened)
    return frames.reshape(*idx.shape, *frames.shape[1:])
