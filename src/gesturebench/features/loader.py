"""Decode + resize/crop of clips, in worker processes, streamed back in manifest order.

Workers never fork the main process (which may hold CUDA or many threads): on
POSIX they fork from a clean ``forkserver`` that has preloaded the decoder
(PyAV, OpenCV), so a worker starts in milliseconds and the imports are paid
once per main process; elsewhere they are ``spawn``-ed. They import no torch
and return uint8 numpy clips of shape ``(num_clips * T, S, S, 3)``, which are
cheap to pickle. At most ``window`` videos are in flight, so memory stays
bounded however long the manifest is.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ..errors import DecodeError, GesturebenchError

log = logging.getLogger(__name__)

#: (row, clip or None, reason or None): with a clip, ``reason`` is the decoder's warnings (e.g. a
#: corrupt frame that was not sampled), so the main process can say the video was used anyway
LoadResult = tuple[int, "np.ndarray | None", "str | None"]


class _Warnings(logging.Handler):
    """Collects the decoder's warnings for one video (they happen in a worker process)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        msg = record.getMessage()
        self.messages.append(msg.split(": ", 1)[1] if msg.startswith("/") and ": " in msg else msg)


class ClipLoader:
    """Picklable callable: ``(row, path) -> (row, uint8 clip | None, reason | None)``.

    A :class:`DecodeError` (or any other library error, e.g. frames of a shape
    that cannot be resized) marks the video bad with its reason; anything else
    is a bug and propagates.
    """

    def __init__(self, decode_fn: Callable[..., np.ndarray], sampler: Any, spec: Any, expected_frames: int):
        self.decode_fn = decode_fn
        self.sampler = sampler
        self.spec = spec
        self.expected_frames = expected_frames

    def __call__(self, row: int, path: str) -> LoadResult:
        from ..encoders.preprocess import resize_crop

        decode_log = logging.getLogger("gesturebench.data")
        warnings = _Warnings()
        decode_log.addHandler(warnings)
        try:
            frames = np.asarray(self.decode_fn(path, self.sampler))
            if frames.ndim == 5:  # (num_clips, T, H, W, 3) -> (num_clips * T, H, W, 3)
                frames = frames.reshape(-1, *frames.shape[2:])
            if frames.ndim != 4 or frames.shape[0] != self.expected_frames:
                return row, None, (
                    f"decoder returned frames of shape {tuple(frames.shape)}; "
                    f"expected ({self.expected_frames}, H, W, 3)"
                )
            return row, resize_crop(frames, self.spec), "; ".join(warnings.messages) or None
        except DecodeError as exc:
            return row, None, exc.reason
        except GesturebenchError as exc:
            return row, None, str(exc)
        finally:
            decode_log.removeHandler(warnings)


_LOADER: ClipLoader | None = None


#: Modules the fork server imports once, so each forked worker starts warm.
PRELOAD = ("__main__", "numpy", "cv2", "av", "gesturebench.features.loader", "gesturebench.data.decode",
           "gesturebench.encoders.preprocess")


def _watch_owner(owner_pid: int) -> None:
    # A worker whose owner was killed (kill -9) must not linger: its task queue never closes.
    while True:
        time.sleep(0.5)
        try:
            os.kill(owner_pid, 0)
        except ProcessLookupError:
            os._exit(0)
        except PermissionError:  # pragma: no cover - pid reused by another user's process
            os._exit(0)


def _mp_context() -> Any:
    import multiprocessing as mp

    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(PRELOAD))  # no effect if the server already runs
        return ctx
    return mp.get_context("spawn")


def _init_worker(loader: ClipLoader, owner_pid: int) -> None:
    global _LOADER
    _LOADER = loader
    try:
        import cv2

        cv2.setNumThreads(1)  # one core per worker; more threads only fight the other workers
    except ImportError:  # pragma: no cover - cv2 is a hard dependency
        pass
    threading.Thread(target=_watch_owner, args=(owner_pid,), daemon=True).start()


def _ping() -> int:
    """A no-op task: its completion says a worker has finished starting up."""
    return os.getpid()


def _load(item: tuple[int, str]) -> LoadResult:
    assert _LOADER is not None, "worker not initialised"  # internal invariant, not user input
    return _LOADER(*item)


def resolve_workers(workers: int | str) -> int:
    """``auto`` -> one worker per CPU core (at most 8); an int >= 0 is taken as given."""
    from ..errors import ConfigError

    if workers == "auto":
        return max(1, min(8, os.cpu_count() or 1))
    if isinstance(workers, str) and workers.isdigit():
        workers = int(workers)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ConfigError(f"workers must be 'auto' or an integer >= 0; got {workers!r}")
    return workers


def stream_clips(
    items: Iterable[tuple[int, str]], loader: ClipLoader, workers: int, window: int
) -> Iterator[LoadResult]:
    """Yield ``loader(row, path)`` for every item, in order; decode in ``workers`` processes.

    ``workers == 0`` decodes in the calling process (debugging, tiny jobs). With workers,
    the calling process never just waits: when the next result is not ready it takes the
    last queued video that no worker has started yet and decodes it itself. That hides
    the workers' start-up (importing PyAV/OpenCV takes ~0.5-1 s) and lets the main process
    help when decoding, not encoding, is the bottleneck.
    Closing the generator early shuts the pool down and cancels queued work.
    """
    if workers == 0:
        for row, path in items:
            yield loader(row, path)
        return

    from concurrent.futures import Future, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_mp_context(),
        initializer=_init_worker, initargs=(loader, os.getpid()),
    )
    # Each entry: [item, Future | None, result | None]; results leave in submission order.
    pending: deque[list[Any]] = deque()
    it = iter(items)
    pings = [pool.submit(_ping) for _ in range(workers)]  # starts the workers

    def submit(item: tuple[int, str]) -> None:
        pending.append([item, pool.submit(_load, item), None])

    def steal() -> bool:
        for entry in reversed(pending):
            fut = entry[1]
            if fut is None:
                continue
            if not fut.cancel():  # already running in a worker (or done): nothing left to steal
                return False
            entry[1], entry[2] = None, loader(*entry[0])
            return True
        return False

    try:
        # Until the first worker is up, decode here, in order (tiny jobs never wait for start-up).
        while not any(p.done() for p in pings):
            item = next(it, None)
            if item is None:
                return
            yield loader(*item)
        for item in it:
            submit(item)
            if len(pending) >= window:
                break
        while pending:
            head = pending[0]
            while head[1] is not None and not head[1].done() and steal():
                pass
            fut: Future | None = head[1]
            if fut is not None:
                try:
                    head[2] = fut.result()
                except BrokenProcessPool as exc:
                    raise GesturebenchError(
                        f"a decode worker process died unexpectedly ({exc}); rerun with --workers 0 to see the error"
                    ) from exc
            pending.popleft()
            nxt = next(it, None)
            if nxt is not None:
                submit(nxt)
            yield head[2]
    finally:
        # Do not block on workers still starting up; they exit as soon as they see the shutdown.
        pool.shutdown(wait=all(p.done() for p in pings), cancel_futures=True)
