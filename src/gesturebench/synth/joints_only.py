"""Pose-space synthesis: training features for the ``pose`` encoder without rendering a frame.

For each video that ``synth`` would render, the same sampled parameters
(:func:`~.randomize.sample_params`: performance, body, camera, shake, roll)
drive the animation and forward kinematics; the skeleton's ground-truth 3-D
joints are projected through that video's camera exactly as the renderer
projects them into its ``joints/*.npz`` files. Only the frames the ``pose``
encoder would sample (TSN segment centres) are computed. Then, per sampled
frame and joint, Gaussian noise with standard deviation ``noise`` x the clip's
torso length in pixels imitates detector error (clean joints trained poor
classifiers in the feasibility pass: the nearest neighbours of detected test
clips were other noisy clips, never the clean ones). The result is a
:class:`~gesturebench.encoders.pose.track.PoseTrack` per clip and
:func:`~gesturebench.encoders.pose.features.pose_feature` turns it into the
very feature the ``pose`` encoder computes from video.

The features go straight into a feature store (:mod:`gesturebench.features.store`,
same format, same encoder identity as ``gesturebench extract --encoder pose``),
so ``knn``/``fit`` take it as a training set beside stores of detected pose.
Its ``settings.decoder`` says ``joints-only`` and ``settings.joints_only`` holds
the configuration, so nobody mistakes it for detected pose. Video ids are
the path of the video ``synth`` would render, under ``jnt/`` and without
``.mp4`` (``jnt/syn/ground/Advance/syn_Advance_ground_s0_00000``); the domain is
the style's (``synthetic`` or ``target``).

Not modelled: the detector's failures. It never loses the person, never masks
an occluded arm, and never swaps left and right on a back view (BlazePose does
in about 40% of such frames on our renders); train on frontal azimuths
(``azimuths``) where that matters.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import nullcontext
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, StoreError, check_choice, check_positive_int
from .randomize import STYLE_DIR, STYLES, VIEWS, sample_params

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
#: manifest domain of each style (joints-only clips are as synthetic as the videos they stand for)
DOMAINS = {"default": "synthetic", "target": "target"}
SHARD_SIZE = 4096
#: Clips per forward-kinematics pass.
CHUNK = 256
#: Joint names shared by the skeleton and the pose track (the skeleton has more).
TRACK_JOINTS = ("l_shoulder", "r_shoulder", "l_elbow", "r_elbow", "l_wrist", "r_wrist", "l_hip", "r_hip")


@dataclass(frozen=True)
class JointsOnlyConfig:
    """What to synthesise. ``size`` and ``frames`` are those of the videos ``synth`` would
    render (the projection and the sampled frame indices depend on them); ``noise`` is the
    detector-like noise in torso lengths; ``encoder`` is the pose preset whose
    frame count and options the features follow. ``scene`` (a scene YAML path), ``azimuths``,
    ``elevations``, ``distance`` and ``mirror_share`` are ``synth``'s camera and scene
    options (:func:`~.scene.resolve_scene`, text as on the command line: ``"0,30,330"``,
    ``"-30:30:15"``, ``"4:6.5"``), so a joints-only set and a rendered one with the same
    options hold the same performances seen through the same cameras."""

    per_class: int
    views: tuple[str, ...] = ("ground",)
    seed: int = 0
    style: str = "default"
    size: int = 224
    frames: int = 64
    noise: float = 0.03
    scene: str | None = None
    azimuths: Any = None
    elevations: Any = None
    distance: Any = None
    mirror_share: float | None = None
    encoder: str = "pose"
    encoder_options: dict[str, Any] = field(default_factory=dict)
    gesture_dir: str | None = None

    def __post_init__(self) -> None:
        check_positive_int("per-class", self.per_class)
        views = tuple(self.views)
        if not views:
            raise ConfigError("views must name at least one of ground, air; got none")
        for v in views:
            check_choice("view", v, VIEWS)
        check_choice("style", self.style, STYLES)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ConfigError(f"seed must be an integer >= 0; got {self.seed!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 32 <= self.size <= 1024:
            raise ConfigError(f"size must be an integer from 32 to 1024; got {self.size!r}")
        if isinstance(self.frames, bool) or not isinstance(self.frames, int) or not 4 <= self.frames <= 1000:
            raise ConfigError(f"frames must be an integer from 4 to 1000; got {self.frames!r}")
        if not isinstance(self.noise, (int, float)) or isinstance(self.noise, bool) or not 0.0 <= self.noise <= 0.5:
            raise ConfigError(f"noise must be a number from 0 to 0.5 (torso lengths); got {self.noise!r}")
        object.__setattr__(self, "views", views)
        object.__setattr__(self, "noise", float(self.noise))
        object.__setattr__(self, "gesture_dir", None if self.gesture_dir is None else str(self.gesture_dir))
        object.__setattr__(self, "scene", None if self.scene is None else str(self.scene))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["views"] = list(self.views)
        return d

    def resolve_scene(self) -> Any:
        """The :class:`~.scene.Scene` the cameras and performances are drawn from."""
        from .scene import resolve_scene

        return resolve_scene(self.style, self.scene, azimuths=self.azimuths, elevations=self.elevations,
                             distance=self.distance, mirror_share=self.mirror_share)


#: The skeleton joints the pose track needs, with their ancestors (parents first).
_FK_JOINTS = ("pelvis", "spine", "chest", "l_shoulder", "l_elbow", "l_wrist", "r_shoulder", "r_elbow", "r_wrist",
              "l_hip", "r_hip")


def _animated(p: dict, spec: Any, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Pose (T', D) at frames ``idx``, root positions (T', 3), joint offsets (J, 3) and the
    duration (s) of one video, exactly as :func:`~.render.render_clip` computes them."""
    from .gestures import Performance, animate
    from .skeleton import Body

    n = p["frames"]
    perf = Performance(
        repeats=p["repeats"], speed=p["speed"], amplitude=p["amplitude"], idle_before=p["idle_before"],
        idle_after=p["idle_after"], mirror=p["mirror"], timing_jitter=p["timing_jitter"],
        angle_jitter=p["angle_jitter"], seed=p["render_seed"],
    )
    pose, duration = animate(spec, perf, n)
    body = Body(height=p["height"], girth=p["girth"], shoulder_width=p["shoulder_width"])
    sway = np.sin(np.linspace(0, duration, n) * 2 * np.pi * 0.3 + p["render_seed"] % 7) * p["sway"]
    root = np.zeros((n, 3))
    root[:, 0], root[:, 1] = sway * 0.02, body.pelvis_height
    return pose[idx], root[idx], body.offsets(), duration


def batched_fk(pose: np.ndarray, root: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """World positions (N, len(TRACK_JOINTS), 3) for N frames that may each have their own body.

    pose (N, D) degrees, root (N, 3), offsets (N, J, 3) per frame. The same recursion as
    :func:`~.skeleton.forward_kinematics` (body yaw 0), restricted to the arm and hip
    chains and run over the frames of many clips at once (that function takes one body,
    and its per-joint numpy calls on 24 frames dominated the cost).
    """
    from .skeleton import DOF_NAMES, JOINT_INDEX, JOINTS, PARENT_INDEX, local_rotation

    col = {n: i for i, n in enumerate(DOF_NAMES)}
    n = pose.shape[0]
    pos: dict[int, np.ndarray] = {}
    rot: dict[int, np.ndarray] = {}
    eye = np.broadcast_to(np.eye(3), (n, 3, 3))
    for name in _FK_JOINTS:
        j = JOINT_INDEX[name]
        local = local_rotation(name, {d: pose[:, col[f"{name}.{d}"]] for d in JOINTS[name][1]})
        p = PARENT_INDEX[j]
        parent_rot, parent_pos = (eye, root) if p < 0 else (rot[p], pos[p])
        pos[j] = parent_pos + np.einsum("nij,nj->ni", parent_rot, offsets[:, j])
        rot[j] = parent_rot if local is None else parent_rot @ local
    return np.stack([pos[JOINT_INDEX[name]] for name in TRACK_JOINTS], axis=1)


def _camera_2d(p: dict, pos: np.ndarray, idx: np.ndarray, duration: float) -> np.ndarray:
    """Project (T', J, 3) world joints of frames ``idx`` like the renderer: camera, shake, roll."""
    import cv2

    from .render import make_camera, shake_offsets

    n, size = p["frames"], p["size"]
    fps = int(np.clip(round(n / duration), 4, 60))
    rng = np.random.default_rng(p["render_seed"])
    shakes = shake_offsets(p, n, rng, fps)[idx]  # the renderer's first draws from this generator
    j2d, _ = make_camera(p, size, 0).project(pos)
    j2d = j2d + shakes[:, None, :]
    if p["roll_jitter"] > 0:
        for k, f in enumerate(idx.tolist()):
            ang = p["roll_jitter"] * np.sin(f / n * 2 * np.pi * p["shake_hz"] + 1.0)
            m = cv2.getRotationMatrix2D((size / 2, size / 2), ang, 1.0 + abs(ang) * 0.02)
            j2d[k] = j2d[k] @ m[:, :2].T + m[:, 2]
    return j2d


def project_joints(p: dict, spec: Any, indices: np.ndarray | None = None) -> np.ndarray:
    """The renderer's ground-truth 2-D joints (T', len(TRACK_JOINTS), 2) of the video with
    parameters ``p`` at frame ``indices`` (default: every frame), without rendering."""
    return project_many([p], [spec], indices)[0]


def project_many(ps: Sequence[dict], specs: Sequence[Any], indices: np.ndarray | None = None) -> list[np.ndarray]:
    """:func:`project_joints` for many videos with the same frame count, one FK pass for all."""
    if not ps:
        return []
    n = ps[0]["frames"]
    if any(p["frames"] != n for p in ps):
        raise ConfigError("project_many needs videos with one frame count")
    idx = np.arange(n) if indices is None else np.asarray(indices, dtype=np.int64)
    parts = [_animated(p, s, idx) for p, s in zip(ps, specs)]
    pose = np.concatenate([a[0] for a in parts])
    root = np.concatenate([a[1] for a in parts])
    offsets = np.concatenate([np.broadcast_to(a[2], (len(idx),) + a[2].shape) for a in parts])
    world = batched_fk(pose, root, offsets).reshape(len(ps), len(idx), len(TRACK_JOINTS), 3)
    return [_camera_2d(p, world[i], idx, parts[i][3]) for i, p in enumerate(ps)]


def noisy_track(p: dict, xy: np.ndarray, noise: float) -> Any:
    """A :class:`PoseTrack` from projected joints (T', 8, 2), with detector-like noise of
    ``noise`` x the clip's median torso length (pixels), seeded by the video."""
    from ..encoders.pose.track import PoseTrack

    if noise > 0:
        sc = 0.5 * (xy[:, 0] + xy[:, 1])
        hc = 0.5 * (xy[:, 6] + xy[:, 7])
        torso = float(np.median(np.hypot(*(sc - hc).T)))
        rng = np.random.default_rng([p["video_seed"], 0x4E4F495345])  # "NOISE"
        xy = xy + rng.normal(0.0, noise * torso, size=xy.shape)
    vis = np.ones(xy.shape[:2], dtype=np.float32)
    return PoseTrack(xy.astype(np.float32), vis, TRACK_JOINTS, (p["size"], p["size"]))


def synth_track(p: dict, spec: Any, indices: np.ndarray, noise: float) -> Any:
    """A :class:`PoseTrack` of the sampled frames of one video, with detector-like noise."""
    return noisy_track(p, project_joints(p, spec, indices), noise)


@dataclass
class JointsOnlySummary:
    """What :func:`synth_joints_only` wrote."""

    store: Path
    total: int
    computed: int
    reused: int
    seconds: float
    views: dict[str, int]
    class_names: tuple[str, ...]

    @property
    def clips_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0


def _plan(cfg: JointsOnlyConfig, specs: Sequence[Any], scene: Any) -> list[tuple[str, Any, dict]]:
    prefix = STYLE_DIR[cfg.style]
    rows = []
    for view in cfg.views:
        for spec in specs:
            for i in range(cfg.per_class):
                p = sample_params(cfg.seed, cfg.style, view, spec, i, cfg.size, cfg.frames, scene=scene)
                # the rendered video's path under jnt/, without .mp4: unique, and says which video it stands for
                vid = f"jnt/{prefix}/{view}/{spec.name}/{prefix}_{spec.name}_{view}_s{cfg.seed}_{i:05d}"
                rows.append((vid, spec, p))
    return rows


def chunk_features(job: tuple[list[tuple[dict, Any]], np.ndarray, float, Any]) -> np.ndarray:
    """float32 (len(chunk), D) features of one chunk of (params, gesture) pairs (worker entry point)."""
    from ..encoders.pose.features import pose_feature

    chunk, indices, noise, options = job
    xys = project_many([p for p, _ in chunk], [s for _, s in chunk], indices)
    out = np.empty((len(chunk), options.feature_dim), dtype=np.float32)
    for k, ((p, _), xy) in enumerate(zip(chunk, xys)):
        out[k], _ = pose_feature(noisy_track(p, xy, noise), options)
    return out


def synth_joints_only(
    cfg: JointsOnlyConfig, out: str | Path, *, workers: int = 0, overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> JointsOnlySummary:
    """Write a ``pose`` feature store of ``cfg.per_class`` clips per gesture and view to ``out``.

    ``workers``: processes computing chunks of 256 clips (0: this process). Resumable by
    shard; an unchanged rerun is a cache hit. Refuses a folder holding other features
    unless ``overwrite``. Results do not depend on ``workers``.
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
        raise ConfigError(f"workers must be an integer >= 0; got {workers!r}")
    from .. import __version__
    from ..data.sampling import SamplerConfig
    from ..encoders.pose.encoder import parse_options, pose_identity
    from ..encoders.registry import get_entry
    from ..features.extract import PREPROCESS_VERSION
    from ..features.meta import rows_checksums
    from ..features.prepare import prepare_store
    from ..features.store import FORMAT_NAME, FORMAT_VERSION, FeatureStore, cache_key
    from ..fileio import sha256_json
    from ..types import Manifest, VideoRecord
    from .gestures import load_gestures

    t0 = time.perf_counter()
    entry = get_entry(cfg.encoder)
    if entry.family != "pose":
        raise ConfigError(f"joints-only synthesis makes features of a pose encoder; {cfg.encoder!r} is a {entry.family} encoder")
    spec, options = parse_options(entry, dict(cfg.encoder_options))
    sampler = SamplerConfig(name="tsn", num_frames=spec.num_frames, mode="test")
    indices = sampler.indices(cfg.frames)
    specs = load_gestures(cfg.gesture_dir)
    scene = cfg.resolve_scene()
    rows = _plan(cfg, specs, scene)
    manifest = Manifest(
        Path("joints-only"), tuple(s.name for s in specs),
        tuple(VideoRecord(vid, s.label, s.name, DOMAINS[cfg.style], p["view"], "train") for vid, s, p in rows),
        ("joints-only",),
    )
    settings = {
        "encoder": pose_identity(entry.name, spec, options),
        "sampler": sampler.to_dict(),
        "decoder": "joints-only",
        # the frames the joints stand for: the same sampled indices, resized/cropped as extract would
        "preprocess": {"version": PREPROCESS_VERSION, "recipe": spec.preprocess,
                       "resize_short_side": spec.resize_short_side, "crop": [spec.size, spec.size],
                       "mean": list(spec.mean), "std": list(spec.std), "layout": spec.layout},
        "precision": "fp32",
        "dtype": "float32",
        "manifest": manifest.content_hash(),
        "files": None,  # no files: the rows are the whole input
        # per_class is left out: the manifest says which clips, so a larger run grows the store
        "joints_only": {**{k: v for k, v in cfg.to_dict().items() if k != "per_class"},
                        "gestures": sha256_json([repr(s) for s in specs]),
                        "scene_hashes": {v: scene.view_hash(v) for v in cfg.views}},
    }
    key = cache_key(settings)
    store = FeatureStore(out)
    if store.path.exists() and not store.path.is_dir():
        raise StoreError(f"--out {store.path} exists and is not a folder; a feature store is a folder")
    n = len(rows)

    def new_meta() -> dict[str, Any]:
        table = {
            "video_ids": [r.video_id for r in manifest.records], "labels": [r.label for r in manifest.records],
            "domains": [r.domain for r in manifest.records], "views": [r.view for r in manifest.records],
            "splits": [r.split for r in manifest.records],
        }
        return {
            "format": FORMAT_NAME, "format_version": FORMAT_VERSION, "status": "partial", "key": key,
            "settings": settings, "dtype": "float32", "feature_dim": options.feature_dim, "num_videos": n,
            "shard_size": SHARD_SIZE, "num_shards": (n + SHARD_SIZE - 1) // SHARD_SIZE,
            "class_names": list(manifest.class_names),
            "manifest": {"root": "joints-only", "sources": ["joints-only"], "content_hash": settings["manifest"]},
            "rows": table, "rows_sha256": rows_checksums(table),
            "created_by": {"package_version": __version__},
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    notify = progress or (lambda done, total: None)
    computed = 0
    pool = ProcessPoolExecutor(workers) if workers > 0 and n > CHUNK else None
    with store.lock(), (pool or nullcontext()):
        plan = prepare_store(store, key, settings, manifest, overwrite, new_meta, lambda m: None)
        meta = plan.meta
        if plan.note:
            log.warning("%s: %s", store.path, plan.note)
        if plan.action != "cached":
            size = int(meta["shard_size"])
            done = 0
            for index in range(int(meta["num_shards"])):
                a, b = index * size, min(n, (index + 1) * size)
                if not plan.known and store.shard_is_valid(index, key, a, b, options.feature_dim):
                    done += b - a
                    notify(done, n)
                    continue
                feats = np.empty((b - a, options.feature_dim), dtype=np.float32)
                todo = [r for r in range(a, b) if r not in plan.known]
                for r in range(a, b):
                    if r in plan.known:
                        feats[r - a] = plan.known[r]
                jobs = [([(rows[r][2], rows[r][1]) for r in todo[c:c + CHUNK]], indices, cfg.noise, options)
                        for c in range(0, len(todo), CHUNK)]
                c = 0
                for block in (pool.map(chunk_features, jobs) if pool else map(chunk_features, jobs)):
                    feats[[r - a for r in todo[c:c + len(block)]]] = block
                    c += len(block)
                    notify(done + (b - a - len(todo)) + c, n)
                store.write_shard(index, key, a, b, feats, np.arange(a, b, dtype=np.int64), [])
                computed += len(todo)
                done += b - a
                notify(done, n)
            meta.update(status="complete", bad=[], shards=store.checksums(int(meta["num_shards"])),
                        finished=datetime.now(timezone.utc).isoformat(timespec="seconds"))
            store.write_meta(meta)
    seconds = time.perf_counter() - t0
    views: dict[str, int] = {}
    for _, _, p in rows:
        views[p["view"]] = views.get(p["view"], 0) + 1
    log.info("joints-only: %d clips (%d computed) -> %s in %.1fs", n, computed, store.path, seconds)
    return JointsOnlySummary(store.path, n, computed, n - computed, seconds, views, tuple(s.name for s in specs))


__all__ = ["JointsOnlyConfig", "JointsOnlySummary", "project_joints", "synth_joints_only",
           "synth_track"]
