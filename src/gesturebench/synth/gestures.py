"""Gestures as data: YAML keyframes of joint angles over normalised time.

A gesture file (see docs/synth.md for a worked example)::

    name: Halt                  # class name written to class_dict.json
    label: 4                    # class index
    description: ...            # free text (where the motion comes from)
    repeats: [1, 1]             # inclusive range of cycle repetitions
    durations: {enter: 0.6, cycle: 1.6, exit: 0.6}   # seconds at speed 1.0
    enter:                      # idle -> first cycle pose (idle is implicit at t=0)
      - {t: 1.0, pose: {r_shoulder: {elev: 170}}}
    cycle:                      # repeated; must start at t: 0, wraps back to it
      - {t: 0.0, hold: 0.6, pose: {...}}
    exit: []                    # last pose -> idle (idle is implicit at t=1)

``t`` is normalised time inside its section (0..1, strictly increasing);
``hold`` keeps the pose for that fraction of the section. Poses are partial:
a DOF not named keeps its value from the previous keyframe (the first from the
idle pose). Angles go the shorter way round between consecutive keyframes, so
add intermediate keyframes for sweeps of 180 degrees or more.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError
from .skeleton import DOF_LIMITS, DOF_NAMES, JOINTS, idle_vector, mirror_pose_vector
from .yamllines import line_of, load_yaml_with_lines, yaml_error_line

SECTIONS = ("enter", "cycle", "exit")
_TOP_KEYS = {"name", "label", "description", "source", "repeats", "durations", *SECTIONS}
_KEYFRAME_KEYS = {"t", "hold", "pose"}


class GestureSpecError(ConfigError):
    """A gesture YAML file does not follow the format; names file (and line) and field."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class Keyframe:
    t: float
    hold: float
    pose: dict[str, float]  # "joint.dof" -> degrees (only the DOFs named in the file)


@dataclass(frozen=True)
class GestureSpec:
    name: str
    label: int
    description: str
    repeats: tuple[int, int]  # inclusive range of cycle repetitions, sampled per video
    durations: dict[str, float]
    sections: dict[str, tuple[Keyframe, ...]]
    source: str = ""
    path: str = field(default="", compare=False)


def _num(where: str, value: Any, line: int | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise GestureSpecError(f"{where} must be a number; got {value!r}", line)
    return float(value)


def _parse_pose(where: str, pose: Any) -> dict[str, float]:
    if not isinstance(pose, dict):
        raise GestureSpecError(f"{where} must be a mapping of joint -> {{dof: degrees}}; got {pose!r}", line_of(pose))
    out: dict[str, float] = {}
    for joint, dofs in pose.items():
        if joint not in JOINTS:
            raise GestureSpecError(f"{where}: unknown joint {joint!r}; allowed: {', '.join(j for j in JOINTS if JOINTS[j][1])}",
                                   line_of(pose, joint))
        if not isinstance(dofs, dict):
            raise GestureSpecError(f"{where}.{joint} must be a mapping of dof -> degrees; got {dofs!r}", line_of(pose, joint))
        for dof, value in dofs.items():
            allowed = JOINTS[joint][1]
            if dof not in allowed:
                raise GestureSpecError(f"{where}.{joint}: unknown dof {dof!r}; allowed: {', '.join(allowed) or 'none'}",
                                       line_of(dofs, dof))
            v = _num(f"{where}.{joint}.{dof}", value, line_of(dofs, dof))
            lo, hi = DOF_LIMITS[dof]
            if not lo <= v <= hi:
                raise GestureSpecError(f"{where}.{joint}.{dof} must be within [{lo}, {hi}] degrees; got {v:g}",
                                       line_of(dofs, dof))
            out[f"{joint}.{dof}"] = v
    return out


def _parse_section(where: str, items: Any, name: str, line: int | None) -> tuple[Keyframe, ...]:
    if items is None:
        items = []
    if not isinstance(items, list):
        raise GestureSpecError(f"{where} must be a list of keyframes; got {items!r}", line)
    frames: list[Keyframe] = []
    end_prev = -1.0
    for i, item in enumerate(items):
        w = f"{where}[{i}]"
        at = line_of(items, i)
        if not isinstance(item, dict):
            raise GestureSpecError(f"{w} must be a mapping with t, pose[, hold]; got {item!r}", at)
        extra = set(item) - _KEYFRAME_KEYS
        if extra:
            raise GestureSpecError(f"{w}: unknown key {sorted(extra)[0]!r}; allowed: hold, pose, t", at)
        if "t" not in item or "pose" not in item:
            raise GestureSpecError(f"{w} needs both 't' and 'pose'", at)
        t = _num(f"{w}.t", item["t"], at)
        hold = _num(f"{w}.hold", item.get("hold", 0.0), at)
        if not 0.0 <= t <= 1.0:
            raise GestureSpecError(f"{w}.t must be within [0, 1]; got {t:g}", at)
        if hold < 0 or t + hold > 1.0 + 1e-9:
            raise GestureSpecError(f"{w}.hold must be >= 0 with t + hold <= 1; got t={t:g} hold={hold:g}", at)
        if t <= end_prev:
            raise GestureSpecError(f"{w}.t must be greater than the previous keyframe's t + hold ({end_prev:g}); got {t:g}", at)
        end_prev = t + hold
        frames.append(Keyframe(t, hold, _parse_pose(f"{w}.pose", item["pose"])))
    if name == "cycle":
        if not frames:
            raise GestureSpecError(f"{where} needs at least one keyframe", line)
        if frames[0].t != 0.0:
            raise GestureSpecError(f"{where}[0].t must be 0 (the cycle starts at its first keyframe); got {frames[0].t:g}",
                                   line_of(items, 0))
    return tuple(frames)


#: Most cycle repetitions a gesture may ask for (a performance must still fit in one clip).
MAX_REPEATS = 20


def parse_gesture(data: Any, where: str = "<gesture>") -> GestureSpec:
    """Validate a parsed YAML document and return a :class:`GestureSpec`.

    Errors start with ``where: ``, or ``where:LINE: `` when ``data`` came from
    :func:`~gesturebench.synth.yamllines.load_yaml_with_lines`.
    """
    try:
        return _parse_gesture(data, where)
    except GestureSpecError as exc:
        msg = str(exc)
        if exc.line is not None and msg.startswith(f"{where}: "):
            raise GestureSpecError(f"{where}:{exc.line}: {msg[len(where) + 2:]}", exc.line) from None
        raise


def _parse_gesture(data: Any, where: str) -> GestureSpec:
    if not isinstance(data, dict):
        raise GestureSpecError(f"{where}: top level must be a mapping; got {type(data).__name__}")
    extra = set(data) - _TOP_KEYS
    if extra:
        bad_key = sorted(extra, key=str)[0]
        raise GestureSpecError(f"{where}: unknown key {bad_key!r}; allowed: {', '.join(sorted(_TOP_KEYS))}",
                               line_of(data, bad_key))
    for key in ("name", "label", "cycle"):
        if key not in data:
            raise GestureSpecError(f"{where}: missing required key {key!r}", line_of(data))
    name = data["name"]
    if not isinstance(name, str) or not name.isidentifier():
        raise GestureSpecError(f"{where}: name must be a word of letters/digits/underscores; got {name!r}",
                               line_of(data, "name"))
    label = data["label"]
    if isinstance(label, bool) or not isinstance(label, int) or label < 0:
        raise GestureSpecError(f"{where}: label must be an integer >= 0; got {label!r}", line_of(data, "label"))
    reps = data.get("repeats", [1, 3])
    if (
        not isinstance(reps, list) or len(reps) != 2
        or any(isinstance(r, bool) or not isinstance(r, int) for r in reps) or not 1 <= reps[0] <= reps[1] <= MAX_REPEATS
    ):
        raise GestureSpecError(f"{where}: repeats must be [min, max] integers with 1 <= min <= max <= {MAX_REPEATS}; "
                               f"got {reps!r}", line_of(data, "repeats"))
    durs_in = data.get("durations", {})
    if not isinstance(durs_in, dict) or set(durs_in) - set(SECTIONS):
        raise GestureSpecError(f"{where}: durations must map enter/cycle/exit to seconds; got {durs_in!r}",
                               line_of(data, "durations"))
    durations = {"enter": 0.6, "cycle": 1.0, "exit": 0.6}
    for k, v in durs_in.items():
        v = _num(f"{where}: durations.{k}", v, line_of(durs_in, k))
        if not 0.05 <= v <= 10.0:
            raise GestureSpecError(f"{where}: durations.{k} must be within [0.05, 10] seconds; got {v:g}",
                                   line_of(durs_in, k))
        durations[k] = v
    sections = {s: _parse_section(f"{where}: {s}", data.get(s), s, line_of(data, s)) for s in SECTIONS}
    return GestureSpec(
        name=name, label=label, description=str(data.get("description", "")).strip(),
        repeats=(reps[0], reps[1]), durations=durations, sections=sections,
        source=str(data.get("source", "")).strip(), path=where,
    )


def load_gesture(path: str | Path) -> GestureSpec:
    """Read and validate one gesture file; errors say ``file:line: field ...``."""
    import yaml

    path = Path(path)
    try:
        data = load_yaml_with_lines(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GestureSpecError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise GestureSpecError(f"{path}: not a UTF-8 text file") from None
    except yaml.YAMLError as exc:
        line = yaml_error_line(exc)
        at = f"{path}:{line}" if line else str(path)
        raise GestureSpecError(f"{at}: not valid YAML: {str(exc).splitlines()[0]}", line) from None
    return parse_gesture(data, str(path))


def gesture_hash(spec: GestureSpec) -> str:
    """12 hex digits over everything that changes how the gesture moves.

    Keyframes, holds, durations, repeats, name and label; not the free-text
    description or source. Part of every video's identity, so editing a
    gesture re-renders exactly that gesture's videos.
    """
    import hashlib
    import json

    doc = {
        "name": spec.name, "label": spec.label, "repeats": list(spec.repeats),
        "durations": {k: spec.durations[k] for k in SECTIONS},
        "sections": {s: [[kf.t, kf.hold, sorted(kf.pose.items())] for kf in spec.sections[s]] for s in SECTIONS},
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:12]


def builtin_dir() -> Path:
    return Path(str(resources.files("gesturebench.synth") / "gestures"))


def load_gestures(folder: str | Path | None = None) -> tuple[GestureSpec, ...]:
    """All ``*.yaml`` gestures of ``folder`` (default: the built-in seven), sorted by label.

    Labels must be exactly 0..N-1 and names unique.
    """
    folder = Path(folder) if folder is not None else builtin_dir()
    specs = [load_gesture(p) for p in sorted(folder.glob("*.yaml"))]
    if not specs:
        raise GestureSpecError(f"{folder}: no *.yaml gesture files")
    specs.sort(key=lambda s: s.label)
    labels = [s.label for s in specs]
    if labels != list(range(len(specs))):
        raise GestureSpecError(f"{folder}: labels must be 0..{len(specs) - 1} exactly once each; got {labels}")
    names = [s.name for s in specs]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})[0]
        raise GestureSpecError(f"{folder}: gesture name {dup!r} is used more than once")
    return tuple(specs)


# ---------------------------------------------------------------- animation --

@dataclass(frozen=True)
class Performance:
    """How one video performs a gesture (all sampled by randomize.py)."""

    repeats: int = 2
    speed: float = 1.0
    amplitude: float = 1.0
    idle_before: float = 0.4
    idle_after: float = 0.4
    mirror: bool = False
    timing_jitter: float = 0.0  # relative jitter of each section/keyframe timing
    angle_jitter: float = 0.0   # degrees of per-keyframe angle noise
    seed: int = 0


def timeline(spec: GestureSpec, perf: Performance) -> tuple[np.ndarray, np.ndarray]:
    """Absolute keyframes: times (K,) in seconds and poses (K, D) in degrees.

    Angles are unwrapped so that consecutive keyframes differ by at most 180.
    """
    rng = np.random.default_rng(perf.seed)
    idle = idle_vector()
    col = {n: i for i, n in enumerate(DOF_NAMES)}
    times: list[float] = [0.0]
    poses: list[np.ndarray] = [idle.copy()]
    now = perf.idle_before
    current = idle.copy()

    def jit(x: float) -> float:
        return x * (1.0 + perf.timing_jitter * float(rng.uniform(-1, 1)))

    def add(t: float, pose: np.ndarray) -> None:
        if t <= times[-1] + 1e-6:
            t = times[-1] + 1e-3
        times.append(t)
        poses.append(pose.copy())

    def run(frames: tuple[Keyframe, ...], dur: float, close: np.ndarray | None) -> None:
        nonlocal now, current
        start = now
        if start > times[-1] + 1e-6:
            add(start, current)
        for kf in frames:
            for k, v in kf.pose.items():
                current[col[k]] = v
            target = current.copy()
            if perf.angle_jitter:
                target += rng.normal(0.0, perf.angle_jitter, size=target.shape)
            t = start + kf.t * dur
            add(t, target)
            if kf.hold > 0:
                add(t + kf.hold * dur, target)
        now = start + dur
        if close is not None:
            current = close.copy()
            add(now, current)

    run(spec.sections["enter"], jit(spec.durations["enter"]) / perf.speed, None)
    cycle = spec.sections["cycle"]
    snapshot = current.copy()
    for kf in cycle:  # pose at the cycle start, to close each repetition
        for k, v in kf.pose.items():
            snapshot[col[k]] = v
        break
    for _ in range(perf.repeats):
        run(cycle, jit(spec.durations["cycle"]) / perf.speed, snapshot if cycle[-1].t + cycle[-1].hold < 1.0 else None)
    run(spec.sections["exit"], jit(spec.durations["exit"]) / perf.speed, idle)
    add(now + perf.idle_after, idle)

    t_arr = np.asarray(times)
    p_arr = np.stack(poses)
    if perf.amplitude != 1.0:
        p_arr = idle + (p_arr - idle) * perf.amplitude
    p_arr = np.unwrap(p_arr, period=360.0, axis=0)
    if perf.mirror:
        p_arr = mirror_pose_vector(p_arr)
    return t_arr, p_arr


def sample_poses(times: np.ndarray, kf_times: np.ndarray, kf_poses: np.ndarray) -> np.ndarray:
    """Pose (T, D) at each time, eased (smoothstep) between keyframes."""
    times = np.clip(np.asarray(times, dtype=np.float64), kf_times[0], kf_times[-1])
    i = np.clip(np.searchsorted(kf_times, times, side="right") - 1, 0, len(kf_times) - 2)
    t0, t1 = kf_times[i], kf_times[i + 1]
    u = np.clip((times - t0) / np.maximum(t1 - t0, 1e-9), 0.0, 1.0)
    u = u * u * (3.0 - 2.0 * u)
    return kf_poses[i] + (kf_poses[i + 1] - kf_poses[i]) * u[:, None]


def animate(spec: GestureSpec, perf: Performance, frames: int) -> tuple[np.ndarray, float]:
    """(frames, D) pose over the whole performance and its duration in seconds.

    The clip spans the whole performance (idle, gesture, idle) so every video
    shows the complete signal whatever its frame count.
    """
    kt, kp = timeline(spec, perf)
    duration = float(kt[-1])
    t = np.linspace(0.0, duration, frames, endpoint=False) + duration / frames / 2
    return sample_poses(t, kt, kp), duration

