"""Dataset writer: plans videos, renders them in parallel, writes the RoCoG-v2 layout.

Layout under ``out`` (``syn`` for the default style, ``tgt`` for ``target``)::

    class_dict.json                         {"0": "Advance", ...}
    syn/<view>/<Class>/<name>.mp4           H.264 (libx264, yuv420p)
    annotations/syn_<view>_<split>.txt      "syn/<view>/<Class>/<name>.mp4 <label>"
    joints/syn/<view>/<Class>/<name>.npz    joints_2d (T,J,2) px, joints_3d (T,J,3) m, params_json
    params/syn_<view>.csv                   one row per video, every sampled parameter

Resume: a video whose ``.mp4`` and ``.npz`` both exist and whose stored
parameters equal the freshly sampled ones is kept. The parameters include the
video's identity: a hash of its gesture spec, of the scene and the renderer
version, so an edited gesture or scene re-renders exactly the videos it
changes. Files are written under a ``.tmp-`` name and renamed when complete,
so a partial file never looks done. Lists and tables are rewritten at the end
from all rows, in a fixed row and column order. One run at a time per output
folder (a lock file, ``.synth.lock``); worker processes exit when their parent dies.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, GesturebenchError, check_choice, check_positive_int
from ..fileio import atomic_path, atomic_write_json, atomic_write_text
from .randomize import PARAM_COLUMNS, STYLE_DIR, STYLES, VIEWS, sample_params, video_seed

log = logging.getLogger(__name__)

SPLIT_NAMES = ("train", "val", "test")
#: columns of params/<prefix>_<view>.csv, always in this order (fresh run or resume)
TABLE_COLUMNS = ("name", "path", "split", "seed", *PARAM_COLUMNS, "fps", "duration")
LOCK_NAME = ".synth.lock"


class SynthLockError(GesturebenchError):
    """Another synth run is writing to the same output folder."""

DEFAULT_SPLITS = {"train": 0.8, "val": 0.2}
ProgressFn = Callable[[int, int], None]


@dataclass
class SynthSummary:
    """What :func:`generate_dataset` wrote."""

    root: Path
    style: str
    views: tuple[str, ...]
    class_names: tuple[str, ...]
    counts: dict[tuple[str, str, str], int]  # (view, class, split) -> videos
    lists: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    generated: int = 0
    skipped: int = 0
    seconds: float = 0.0
    scene: str = "default"
    scene_hashes: dict[str, str] = field(default_factory=dict)  # view -> scene hash

    @property
    def total(self) -> int:
        return self.generated + self.skipped

    @property
    def videos_per_second(self) -> float:
        return self.generated / self.seconds if self.seconds > 0 else 0.0


def parse_splits(text: str | dict | None) -> dict[str, float]:
    """``"train=0.8,val=0.2"`` (or a dict) -> normalised fractions in a fixed order."""
    if text is None:
        return dict(DEFAULT_SPLITS)
    items: list[tuple[str, object]]
    if isinstance(text, dict):
        items = list(text.items())
    else:
        items = []
        for chunk in str(text).split(","):
            if "=" not in chunk:
                raise ConfigError(f"splits must look like train=0.8,val=0.2; got {text!r}")
            k, v = chunk.split("=", 1)
            items.append((k.strip(), v.strip()))
    out: dict[str, float] = {}
    for k, v in items:
        check_choice("split", k, SPLIT_NAMES)
        if k in out:
            raise ConfigError(f"split {k!r} is given twice in {text!r}")
        try:
            f = float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ConfigError(f"split {k} must be a number >= 0; got {v!r}") from None
        if not f >= 0 or f == float("inf"):
            raise ConfigError(f"split {k} must be a number >= 0; got {v!r}")
        out[k] = f
    total = sum(out.values())
    if total <= 0:
        raise ConfigError(f"splits must have a positive total; got {text!r}")
    return {k: out[k] / total for k in SPLIT_NAMES if k in out}


def assign_splits(n: int, splits: dict[str, float], seed: int) -> list[str]:
    """Split names for indices 0..n-1: largest-remainder counts, seeded shuffle."""
    import numpy as np

    names = list(splits)
    raw = [splits[k] * n for k in names]
    counts = [int(r) for r in raw]
    for i in sorted(range(len(names)), key=lambda i: (-(raw[i] - counts[i]), i))[: n - sum(counts)]:
        counts[i] += 1
    labels = [k for k, c in zip(names, counts) for _ in range(c)]
    perm = np.random.default_rng(seed).permutation(n)
    return [labels[int(j)] for j in perm]


def validate_args(per_class, views, seed, style, size, frames, workers) -> tuple[str, ...]:
    check_positive_int("per-class", per_class)
    if isinstance(views, str):
        views = [v.strip() for v in views.split(",") if v.strip()]
    views = tuple(views)
    if not views:
        raise ConfigError("views must name at least one of ground, air; got none")
    for v in views:
        check_choice("view", v, VIEWS)
    if len(set(views)) != len(views):
        raise ConfigError(f"views must not repeat; got {','.join(views)}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be an integer >= 0; got {seed!r}")
    check_choice("style", style, STYLES)
    if isinstance(size, bool) or not isinstance(size, int) or size < 32 or size > 1024 or size % 2:
        raise ConfigError(f"size must be an even integer from 32 to 1024; got {size!r}")
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 4 or frames > 1000:
        raise ConfigError(f"frames must be an integer from 4 to 1000; got {frames!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ConfigError(f"workers must be an integer >= 0; got {workers!r}")
    return views


def _class_dict(specs) -> dict[str, str]:
    return {str(s.label): s.name for s in specs}


def _write_class_dict(root: Path, specs) -> None:
    path = root / "class_dict.json"
    want = _class_dict(specs)
    if path.exists():
        try:
            have = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            have = None
        if have != want:
            raise ConfigError(f"{path} lists other classes than these gestures ({have!r}); use a new --out folder")
        return
    atomic_write_json(path, want)


def plan(root: Path, specs, per_class: int, views, seed: int, style: str, size: int, frames: int,
         splits: dict[str, float], gesture_dir: str | None, scene=None) -> list[dict]:
    """One job per video (sorted: view, label, index); each carries all sampled parameters."""
    prefix = STYLE_DIR[style]
    jobs = []
    for view in views:
        for spec in specs:
            split_of = assign_splits(per_class, splits, video_seed(seed, style, view, spec.name, -1))
            for idx in range(per_class):
                name = f"{prefix}_{spec.name}_{view}_s{seed}_{idx:05d}"
                rel = f"{prefix}/{view}/{spec.name}/{name}.mp4"
                row = {"name": name, "path": rel, "split": split_of[idx], "seed": seed}
                row.update(sample_params(seed, style, view, spec, idx, size, frames, scene=scene))
                jobs.append({"row": row, "root": str(root), "gesture_dir": gesture_dir, "spec": spec,
                             "npz": f"joints/{prefix}/{view}/{spec.name}/{name}.npz"})
    return jobs


#: not part of a video's identity: derived at render time, or a label (the scene's hash is the identity)
_NOT_IDENTITY = ("fps", "duration", "scene")


def _params_key(row: dict) -> str:
    return json.dumps({k: v for k, v in row.items() if k not in _NOT_IDENTITY}, sort_keys=True)


def existing_row(job: dict) -> dict | None:
    """The stored row if this video is already complete with the same parameters."""
    import numpy as np

    root = Path(job["root"])
    mp4, npz = root / job["row"]["path"], root / job["npz"]
    if not (mp4.is_file() and npz.is_file() and mp4.stat().st_size > 0):
        return None
    try:
        with np.load(npz) as z:
            stored = json.loads(str(z["params_json"]))
    except Exception:  # unreadable or foreign npz: regenerate it
        return None
    if _params_key(stored) != _params_key(job["row"]) or not {"fps", "duration"} <= set(stored):
        return None
    # this run's row (fixed column order, this run's scene name) with what rendering derived
    return {**job["row"], "fps": stored["fps"], "duration": stored["duration"]}


def encode_mp4(path: Path, frames, fps: int, crf: int) -> None:
    """H.264 (libx264, yuv420p, one thread so output is reproducible)."""
    import av
    import cv2

    h, w = frames.shape[1:3]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "ultrafast", "threads": "1"}
        stream.codec_context.thread_count = 1
        for frame in frames:
            vf = av.VideoFrame.from_ndarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420), format="yuv420p")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def render_job(job: dict) -> tuple[dict, bool]:
    """Render, encode and store one video (or keep it). Returns (row, generated)."""
    import cv2
    import numpy as np

    from .render import render_clip
    from .skeleton import JOINT_NAMES

    cv2.setNumThreads(1)
    done = existing_row(job)
    if done is not None:
        return done, False
    row = dict(job["row"])
    spec = job["spec"]  # the spec the row was planned (and hashed) from, not a re-read file
    clip = render_clip(row, spec)
    row["fps"], row["duration"] = clip.fps, round(clip.duration, 4)
    root = Path(job["root"])
    with atomic_path(root / row["path"]) as tmp:
        encode_mp4(tmp, clip.frames, clip.fps, row["crf"])
    with atomic_path(root / job["npz"]) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, joints_2d=clip.joints_2d, joints_3d=clip.joints_3d,
                                joint_names=np.array(JOINT_NAMES), fps=np.int64(clip.fps),
                                params_json=np.array(json.dumps(row, sort_keys=True)))
    return row, True


def _clean_temps(root: Path, prefix: str, views) -> None:
    for sub in [root / prefix / v for v in views] + [root / "joints" / prefix / v for v in views]:
        if sub.is_dir():
            for tmp in sub.rglob(".tmp-*"):
                log.info("removing leftover %s", tmp)
                tmp.unlink(missing_ok=True)


def _write_tables(root: Path, prefix: str, views, rows: list[dict], splits) -> tuple[list[Path], list[Path]]:
    lists, tables = [], []
    for view in views:
        vrows = [r for r in rows if r["view"] == view]
        for split in SPLIT_NAMES:
            path = root / "annotations" / f"{prefix}_{view}_{split}.txt"
            lines = [f"{r['path']} {r['label']}" for r in vrows if r["split"] == split]
            if lines:
                atomic_write_text(path, "\n".join(lines) + "\n")
                lists.append(path)
            elif path.exists():  # a stale list from an earlier run with other splits
                path.unlink()
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=TABLE_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(vrows)
        table = root / "params" / f"{prefix}_{view}.csv"
        atomic_write_text(table, buf.getvalue())
        tables.append(table)
    return lists, tables


def _watch_owner(owner_pid: int) -> None:
    # kill -9 of the parent leaves the pool's queues open forever: a worker must notice on its own.
    while True:
        time.sleep(0.5)
        try:
            os.kill(owner_pid, 0)
        except (ProcessLookupError, PermissionError):  # gone (or the pid now belongs to someone else)
            os._exit(0)


def _init_worker(owner_pid: int) -> None:
    import threading

    threading.Thread(target=_watch_owner, args=(owner_pid,), daemon=True, name="owner-watch").start()


@contextmanager
def output_lock(root: Path) -> Iterator[None]:
    """Hold ``root/.synth.lock``, or refuse at once if another run holds it."""
    from filelock import FileLock, Timeout

    path = root / LOCK_NAME
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise SynthLockError(f"synth output {root} is being written by another run (lock {path} is held); "
                             "wait for that run to finish or choose another --out") from None
    try:
        yield
    finally:
        lock.release()


def _write_scenes(root: Path, scene, views) -> dict[str, str]:
    """The resolved scene, once per hash, under params/scenes/ (the table's scene_hash names it)."""
    hashes = {v: scene.view_hash(v) for v in views}
    for h in sorted(set(hashes.values())):
        path = root / "params" / "scenes" / f"{h}.yaml"
        text = f"# scene {scene.name!r} (style {scene.style}) as resolved by synth; hash {h}\n" + scene.to_yaml()
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            atomic_write_text(path, text)
    return hashes


def generate_dataset(
    out: str | os.PathLike[str],
    per_class: int,
    views: Sequence[str] | str = ("ground",),
    seed: int = 0,
    style: str = "default",
    size: int = 224,
    frames: int = 64,
    workers: int = 0,
    splits: str | dict | None = None,
    progress: ProgressFn | None = None,
    gesture_dir: str | os.PathLike[str] | None = None,
    scene=None,
    azimuths=None,
    elevations=None,
    distance=None,
    mirror_share: float | None = None,
    engine: object = "local",
) -> SynthSummary:
    """Generate ``per_class`` videos per gesture and view into ``out`` (RoCoG-v2 layout).

    ``scene`` is a :class:`~gesturebench.synth.scene.Scene` or a scene YAML path
    (default: the style's built-in scene); ``azimuths``, ``elevations``,
    ``distance`` (text as on the command line: ``"0,30,330"``, ``"-30:30:15"``,
    ``"4:6.5"``, ``"5"``) and ``mirror_share`` override its camera and mirroring.
    Deterministic in (seed, style, view, class, index, scene) whatever ``workers``;
    resumes an interrupted run. ``progress(done, total)`` is called as videos finish.
    ``engine``: ``"local"`` (``workers`` processes here), ``"ray"`` or a
    :class:`gesturebench.ray_cluster.RayEngine` (render on a Ray cluster, write here).
    """
    from .gestures import load_gestures
    from .scene import resolve_scene

    views = validate_args(per_class, views, seed, style, size, frames, workers)
    split_fracs = parse_splits(splits)
    sc = resolve_scene(style, scene, azimuths=azimuths, elevations=elevations, distance=distance,
                       mirror_share=mirror_share)
    root = Path(out)
    gdir = str(gesture_dir) if gesture_dir is not None else None
    specs = load_gestures(gdir)
    root.mkdir(parents=True, exist_ok=True)
    with output_lock(root):
        return _generate(root, specs, per_class, views, seed, style, size, frames, workers, split_fracs,
                         progress, gdir, sc, engine)


def _generate(root, specs, per_class, views, seed, style, size, frames, workers, split_fracs, progress, gdir,
              sc, engine="local") -> SynthSummary:
    _write_class_dict(root, specs)
    prefix = STYLE_DIR[style]
    _clean_temps(root, prefix, views)
    scene_hashes = _write_scenes(root, sc, views)
    jobs = plan(root, specs, per_class, views, seed, style, size, frames, split_fracs, gdir, scene=sc)
    total = len(jobs)
    results: dict[str, dict] = {}
    generated = 0
    t0 = time.perf_counter()
    if progress:
        progress(0, total)
    if engine != "local":  # Ray renders, this process writes (synth/ray_engine.py)
        from .ray_engine import render_on_ray

        for row, made in render_on_ray(jobs, engine):  # type: ignore[arg-type]
            results[row["path"]], generated = row, generated + made
            if progress:
                progress(len(results), total)
    elif workers <= 0:
        for job in jobs:
            row, made = render_job(job)
            results[row["path"]], generated = row, generated + made
            if progress:
                progress(len(results), total)
    else:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                 initializer=_init_worker, initargs=(os.getpid(),)) as pool:
            futures = [pool.submit(render_job, job) for job in jobs]
            try:
                for fut in as_completed(futures):
                    row, made = fut.result()
                    results[row["path"]], generated = row, generated + made
                    if progress:
                        progress(len(results), total)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    seconds = time.perf_counter() - t0
    rows = [results[j["row"]["path"]] for j in jobs]
    lists, tables = _write_tables(root, prefix, views, rows, split_fracs)
    counts = Counter((r["view"], r["class_name"], r["split"]) for r in rows)
    return SynthSummary(root=root, style=style, views=views, class_names=tuple(s.name for s in specs),
                        counts=dict(counts), lists=lists, tables=tables, generated=generated,
                        skipped=total - generated, seconds=seconds, scene=sc.name, scene_hashes=scene_hashes)
