"""``synth --engine ray``: render on a Ray cluster's workers, write every file here.

Each task renders a chunk of videos with the local engine's own
:func:`gesturebench.synth.writer.render_job`, into a scratch folder on its worker,
and returns the finished files as bytes. This process, the one writer, puts them
under ``out`` atomically (``.tmp-`` name, then rename; the ``.mp4`` before the
``.npz``, exactly as ``render_job`` does), so the workers need no shared file
system and an interrupted run resumes by the same test as the local engine
(:func:`~gesturebench.synth.writer.existing_row`, checked here before anything is
sent out). Videos are identical byte for byte to the local engine's: the same
code renders them and x264 runs single-threaded.

Workers need gesturebench installed (the same version). A ``--gestures`` folder must
be readable at the same path on every node (or travel inside the jobs as their specs).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..ray_cluster import RayEngine, connect, reraise_remote, resolve_engine

log = logging.getLogger(__name__)

#: (relative path, bytes) of the files a rendered video consists of, in write order
Files = list[tuple[str, bytes]]


# ---- remote code (runs in Ray workers) -------------------------------------------------------
def render_chunk(jobs: list[dict]) -> list[tuple[dict, Files]]:
    """Render ``jobs`` into a scratch folder; return each one's row and file bytes."""
    import shutil
    import tempfile

    from .writer import render_job

    out: list[tuple[dict, Files]] = []
    for job in jobs:
        scratch = Path(tempfile.mkdtemp(prefix="gesturebench-render-"))
        try:
            row, _ = render_job(dict(job, root=str(scratch)))  # the local engine's code, another root
            files = [(rel, (scratch / rel).read_bytes()) for rel in (row["path"], job["npz"])]
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        out.append((row, files))
    return out


# ---- the driver side -------------------------------------------------------------------------
def _write_files(root: Path, files: Files) -> None:
    from ..fileio import atomic_write_bytes

    for rel, data in files:
        atomic_write_bytes(root / rel, data)


def render_on_ray(jobs: list[dict], engine: str | RayEngine) -> Iterator[tuple[dict, bool]]:
    """Yield ``(row, generated)`` for every job, as videos finish (kept ones first).

    The same contract as mapping ``render_job`` over ``jobs``: a video already complete
    with the same parameters is kept (``generated`` False), every other one is rendered
    and written under its job's root before it is yielded.
    """
    from .writer import existing_row

    cfg = resolve_engine(engine)
    if cfg is None:
        raise ValueError("render_on_ray needs a Ray engine")
    todo = []
    for job in jobs:
        done = existing_row(job)
        if done is not None:
            yield done, False
        else:
            todo.append(job)
    if not todo:
        return
    ray = connect(cfg)
    cpus = max(1, int(float(ray.cluster_resources().get("CPU", 1))))
    chunk = cfg.render_chunk or max(1, min(8, len(todo) // (4 * cpus)))
    window = cfg.window or max(4, 2 * cpus)
    chunks = [todo[i : i + chunk] for i in range(0, len(todo), chunk)]
    task = ray.remote(num_cpus=1)(render_chunk)
    roots = {id(c): Path(c[0]["root"]) for c in chunks}
    inflight: dict[Any, list[dict]] = {}
    it = iter(chunks)
    log.info("Ray engine: %d videos in %d tasks of up to %d", len(todo), len(chunks), chunk)
    try:
        while True:
            while len(inflight) < window:
                nxt = next(it, None)
                if nxt is None:
                    break
                inflight[task.remote(nxt)] = nxt
            if not inflight:
                return
            ready, _ = ray.wait(list(inflight), num_returns=1)
            for ref in ready:
                root = roots[id(inflight.pop(ref))]
                for row, files in ray.get(ref):
                    _write_files(root, files)
                    yield row, True
    except Exception as exc:
        reraise_remote(exc)
        raise
    finally:
        for ref in inflight:
            ray.cancel(ref)


__all__ = ["render_on_ray", "render_chunk"]
