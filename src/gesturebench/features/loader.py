"""Decode + resize/crop of clips, in worker processes, streamed back in manifest order.

Workers are started with the ``spawn`` method (safe when the parent holds CUDA
or many threads) and import no torch: they return uint8 numpy clips of shape
``(num_clips * T, S, S, 3)``, which are cheap to pickle. At most ``window``
videos are in flight, so memory stays bounded however long the manifest is.
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

#: (row, clip or None, reason or None)
LoadResult = tuple[int, "np.ndarray | None", "str | None"]


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

        try:
            frames = np.asarray(self.decode_fn(path, self.sampler))
            if frames.ndim == 5:  # (num_clips, T, H, W, 3) -> (num_clips * T, H, W, 3)
                frames = frames.reshape(-1, *frames.shape[2:])
            if frames.ndim != 4 or frames.shape[0] != self.expected_frames:
                return row, None, (
                    f"decoder returned frames of shape {tuple(frames.shape)}; "
                    f"expected ({self.expected_frames}, H, W, 3)"
                )
            return row, resize_crop(frames, self.spec), None
        except DecodeError as exc:
            return row, None, exc.reason
        except GesturebenchError as exc:
            return row, None, str(exc)


_LOADER: ClipLoader | None = None


def _watch_parent(parent_pid: int) -> None:
    # A worker whose parent was killed (kill -9) must not linger: its queue never closes.
    while True:
        time.sleep(0.5)
        if os.getppid() != parent_pid:
            os._exit(0)


def _init_worker(loader: ClipLoader, parent_pid: int) -> None:
    global _LOADER
    _LOADER = loader
    try:
        import cv2

        cv2.setNumThreads(1)  # one core per worker; more threads only fight the other workers
    except ImportError:  # pragma: no cover - cv2 is a hard dependency
        pass
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True).start()


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

    ``workers == 0`` decodes in the calling process (debugging, tiny jobs).
    Closing the generator early shuts the pool down and cancels queued work.
    """
    if workers == 0:
        for row, path in items:
            yield loader(row, path)
        return

    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=mp.get_context("spawn"),
        initializer=_init_worker, initargs=(loader, os.getpid()),
    )
    pending: deque = deque()
    it = iter(items)
    try:
        for item in it:
            pending.append(pool.submit(_load, item))
            if len(pending) >= window:
                break
        while pending:
            fut = pending.popleft()
            try:
                result = fut.result()
            except BrokenProcessPool as exc:
                raise GesturebenchError(
                    f"a decode worker process died unexpectedly ({exc}); rerun with --workers 0 to see the error"
                ) from exc
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(_load, nxt))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
