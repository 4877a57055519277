"""Check a study config against the world (paths, lists, classes, weights, options) and
estimate what running it costs. ``gesturebench run --dry-run`` prints this; the runner
refuses to start while any problem remains."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import StudyConfig

#: measured per-clip encode cost on our 2-core CPU (README Performance / docs/encoders.md)
CPU_CLIP_S = {"pixels": 0.003, "motion": 0.031}
#: effective float32 CPU throughput of our ViT port, from port_vs_hf_vit.py (6.37 s per 16x224 ViT-B clip)
CPU_FLOPS = 4.3e10
DECODE_S = 0.02
SYNTH_S_PER_VIDEO_224_64 = 1 / 6.6  # synth_throughput.py, one worker


@dataclass
class Check:
    problems: list[str] = field(default_factory=list)
    classes: tuple[str, ...] | None = None
    videos: dict[str, int] = field(default_factory=dict)  # dataset -> videos (generated: estimate)
    notes: list[str] = field(default_factory=list)


def unseen_available() -> bool:
    return importlib.util.find_spec("gesturebench.api.unseen") is not None


def clip_seconds(preset: str, frames: int | None = None) -> float:
    """Estimated CPU seconds to decode and encode one clip with ``preset`` (an estimate)."""
    from ..encoders.registry import get_entry

    if preset in CPU_CLIP_S:
        return DECODE_S + CPU_CLIP_S[preset]
    e = get_entry(preset)
    t = frames or e.spec.num_frames
    if e.gflops:  # the catalogue's per-clip cost at the preset's input size, scaled to the frame count
        return DECODE_S + e.gflops * 1e9 * (t / e.spec.num_frames) / CPU_FLOPS
    if e.params_m is None or e.params_m == 0:
        return DECODE_S + 0.01
    spec = e.spec
    size = getattr(spec, "size", None) or getattr(spec, "crop_size", None) or 224
    size = size[0] if isinstance(size, (tuple, list)) else size
    tokens = max(1, t // 2) * (int(size) // 16) ** 2
    return DECODE_S + 2 * e.params_m * 1e6 * tokens / CPU_FLOPS


def check_config(cfg: StudyConfig) -> Check:
    """Every problem of ``cfg`` (empty list: ready to run), the class list and video counts."""
    from ..data.manifest import load_manifest
    from ..errors import GesturebenchError

    chk = Check()
    f = str(cfg.file)
    for name, ds in cfg.datasets.items():
        if ds.generated:
            specs = [s for s in cfg.synth if s.root.resolve() == ds.root.resolve()]
            n = 0
            for s in specs:
                for lst in ds.lists:
                    for split, frac in s.splits.items():
                        if lst.name.endswith(f"_{split}.txt") and lst.name.startswith({"default": "syn", "target": "tgt"}[s.style]):
                            n += round(s.videos * frac)
            chk.videos[name] = n
            continue
        if not ds.root.is_dir():
            chk.problems.append(f"{f}: datasets.{name}.root: folder not found: {ds.root}")
            continue
        missing = [str(p) for p in ds.lists if not p.is_file()]
        if missing:
            chk.problems.append(f"{f}: datasets.{name}.lists: file not found: {missing[0]}")
            continue
        try:
            m = load_manifest(ds.root, list(ds.lists))
        except GesturebenchError as exc:
            chk.problems.append(f"{f}: datasets.{name}: {exc}")
            continue
        chk.videos[name] = len(m)
        if chk.classes is None:
            chk.classes = m.class_names
        elif m.class_names != chk.classes:
            chk.problems.append(f"{f}: datasets.{name}: classes {list(m.class_names)} differ from the other "
                                f"datasets' {list(chk.classes)}")
    _check_encoders(cfg, chk)
    for t in cfg.tasks:
        if t.kind == "zeroshot":
            from ..encoders.registry import get_entry

            for label in t.params["encoders"]:
                spec = cfg.encoders[label]
                try:
                    if not get_entry(spec.preset).supports_text and t.params["explicit_encoders"]:
                        chk.problems.append(f"{f}: {t.where}.encoders: {label} ({spec.preset}) has no text tower")
                except GesturebenchError:
                    pass
            for p in t.params["prompts"]:
                if p is not None and not Path(p).is_file():
                    chk.problems.append(f"{f}: {t.where}.prompts: file not found: {p}")
        if t.kind == "unseen" and not unseen_available():
            chk.notes.append(f"{t.where}: not available in this version (gesturebench.api.unseen is missing); skipped")
    return chk


def _check_encoders(cfg: StudyConfig, chk: Check) -> None:
    import importlib

    from ..encoders.registry import _check_options, get_entry
    from ..errors import GesturebenchError

    f = str(cfg.file)
    for label, spec in cfg.encoders.items():
        try:
            entry = get_entry(spec.preset)
        except GesturebenchError as exc:
            chk.problems.append(f"{f}: encoders.{label}.preset: {exc}")
            continue
        if spec.weights is not None:
            if not spec.weights.exists():
                chk.problems.append(f"{f}: encoders.{label}.weights: not found: {spec.weights}")
        elif entry.needs_weights() and entry.local_weights() is None:
            chk.problems.append(f"{f}: encoders.{label}: weights for {spec.preset} not found locally; download "
                                f"{entry.source or 'the official checkpoint'} and set encoders.{label}.weights")
        opts = {k: v for k, v in spec.options.items() if k != "preprocess"}
        if opts:
            try:
                module, _, attr = entry.target.partition(":")
                _check_options(entry, getattr(importlib.import_module(module), attr), dict(opts))
            except GesturebenchError as exc:
                chk.problems.append(f"{f}: encoders.{label}.options: {exc}")
            except ImportError as exc:
                chk.problems.append(f"{f}: encoders.{label}: cannot import {entry.target}: {exc}")


def plan_lines(cfg: StudyConfig, chk: Check, steps: list[Any]) -> list[str]:
    """The plan as printable lines: one per step with counts and the estimated cost."""
    lines = [f"study {cfg.name!r} from {cfg.file} -> {cfg.out}"]
    if chk.classes:
        lines.append(f"classes ({len(chk.classes)}): {', '.join(chk.classes)}")
    for name, n in chk.videos.items():
        gen = " (to be generated)" if cfg.datasets[name].generated else ""
        lines.append(f"dataset {name}: {n} videos{gen}")
    total = 0.0
    for s in steps:
        total += s.cost_s
        lines.append(f"  {s.kind:<9} {s.label:<60} {s.count:>7} {s.unit:<8} ~{_dur(s.cost_s)}")
    lines.append(f"estimated cost: ~{_dur(total)} on this machine's CPU (an estimate from measured per-clip costs "
                 "and FLOPs; cached steps cost nothing)")
    lines += chk.notes
    return lines


def _dur(s: float) -> str:
    return f"{s:.0f} s" if s < 120 else (f"{s / 60:.0f} min" if s < 7200 else f"{s / 3600:.1f} h")
