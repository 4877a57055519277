"""``gesturebench finetune``: fine-tune an encoder (+ linear head) on annotation lists, into a run folder.

RUN/ holds, when finished:

* ``model.safetensors``: the encoder's weights in the key layout its loader
  reads, so ``extract/bench --weights RUN/model.safetensors`` use them unchanged;
* ``head.safetensors``: the classifier (``weight``, ``bias``; class names in the metadata);
* ``training.json``: task ``finetune``, resolved settings, per-epoch history, wall
  time, provenance (the shared result-document body);
* ``curves.png``: train loss / accuracy and validation accuracy per epoch.

While running, ``run.json`` pins the run's identity and ``checkpoint.pt`` holds
the state after the last finished epoch; rerunning the same command resumes.
A finished run is a cache hit; other settings are refused unless ``overwrite``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, TrainingError

if TYPE_CHECKING:
    from ..training.config import FinetuneConfig
    from ..types import Manifest

log = logging.getLogger(__name__)

MODEL_FILE, HEAD_FILE, TRAINING_FILE, RUN_FILE, CHECKPOINT_FILE, CURVES_FILE = (
    "model.safetensors", "head.safetensors", "training.json", "run.json", "checkpoint.pt", "curves.png",
)


@dataclass(frozen=True)
class FinetuneResult:
    out: Path
    cached: bool
    document: dict[str, Any]
    bad: dict[str, str]

    @property
    def history(self) -> list[dict[str, Any]]:
        return self.document["history"]

    @property
    def model_path(self) -> Path:
        return self.out / MODEL_FILE


def select_classes(manifest: Manifest, classes: Sequence[str] | None) -> tuple[Manifest, tuple[str, ...]]:
    """Keep the videos of ``classes`` (all when None); the classes in the order given."""
    if classes is None:
        names = manifest.class_names
    else:
        names = tuple(c.strip() for c in classes if c.strip())
        if not names:
            raise ConfigError("--classes is empty; give class names separated by commas")
        unknown = [c for c in names if c not in manifest.class_names]
        if unknown:
            raise ConfigError(
                f"unknown class {unknown[0]!r} in --classes; allowed: {', '.join(manifest.class_names)}"
            )
        dupes = sorted({c for c in names if names.count(c) > 1})
        if dupes:
            raise ConfigError(f"class {dupes[0]!r} is given twice in --classes")
    keep = [r for r in manifest.records if r.class_name in names]
    if not keep:
        raise ConfigError(f"no training videos of the classes {', '.join(names)} in {', '.join(manifest.sources) or manifest.root}")
    present = {r.class_name for r in keep}
    missing = [c for c in names if c not in present]
    if missing:
        raise ConfigError(f"class {missing[0]!r} has no training video in the given lists")
    if len(names) < 2:
        raise ConfigError(f"fine-tuning a classifier needs at least 2 classes; got {', '.join(names)}")
    return manifest.subset(keep), names


def items_of(manifest: Manifest, names: Sequence[str]) -> list[tuple[str, str, int]]:
    index = {c: i for i, c in enumerate(names)}
    return [(r.video_id, str(manifest.abspath(r)), index[r.class_name]) for r in manifest.records
            if r.class_name in index]


def run_identity(encoder: Any, cfg: FinetuneConfig, train: Manifest, names: Sequence[str],
                 val: Manifest | None) -> dict[str, Any]:
    from ..features.extract import files_fingerprint

    return {
        "task": "finetune",
        "encoder": encoder.identity(),
        "config": cfg.identity(),
        "classes": list(names),
        "train": {"manifest": train.content_hash(), "files": files_fingerprint(train), "n": len(train)},
        "val": None if val is None else {"manifest": val.content_hash(), "files": files_fingerprint(val), "n": len(val)},
    }


def _differences(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k in sorted(set(old) | set(new)):
        a, b = old.get(k), new.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{k}.")
        elif a != b:
            out.append(f"{prefix}{k}")
    return out


def _prepare_run(out: Path, identity: dict[str, Any], key: str, overwrite: bool) -> dict[str, Any] | None:
    """The finished document for a cache hit; None to (re)start. Refuses other settings unless ``overwrite``."""
    pinned = out / RUN_FILE
    if pinned.is_file():
        old = json.loads(pinned.read_text(encoding="utf-8"))
        if old.get("key") != key:
            if not overwrite:
                changed = _differences(old.get("identity", {}), identity)
                raise TrainingError(
                    f"{out} holds a fine-tuning run with other settings (changed: {', '.join(changed[:6]) or 'unknown'}); "
                    "use --overwrite to replace it or another --out"
                )
            for name in (MODEL_FILE, HEAD_FILE, TRAINING_FILE, RUN_FILE, CHECKPOINT_FILE, CURVES_FILE):
                (out / name).unlink(missing_ok=True)
        else:
            done = out / TRAINING_FILE
            if done.is_file() and (out / MODEL_FILE).is_file() and (out / HEAD_FILE).is_file():
                return json.loads(done.read_text(encoding="utf-8"))
    elif any((out / n).exists() for n in (MODEL_FILE, TRAINING_FILE, CHECKPOINT_FILE)):
        if not overwrite:
            raise TrainingError(f"{out} holds files of an unknown run; use --overwrite to replace them or another --out")
    return None


def finetune(
    data: str | Path,
    lists: Sequence[str | Path] | None,
    encoder: str,
    out: str | Path,
    cfg: FinetuneConfig | None = None,
    *,
    weights: str | Path | None = None,
    classes: Sequence[str] | None = None,
    val_lists: Sequence[str | Path] | None = None,
    device: str = "auto",
    workers: int | str = 0,
    encoder_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    progress: Callable[..., None] | None = None,
) -> FinetuneResult:
    """Fine-tune ``encoder`` on the videos of ``lists`` under ``data`` into ``out``; see the module doc."""
    import torch

    from ..data.manifest import load_manifest
    from ..features.loader import resolve_workers
    from ..fileio import atomic_write_json, sha256_json
    from ..training.config import FinetuneConfig
    from ..training.loop import make_head, train
    from ..training.trainable import trainable_view
    from .extract import build_encoder

    cfg = cfg or FinetuneConfig()
    out = Path(out)
    n_workers = resolve_workers(workers)
    manifest, names = select_classes(load_manifest(data, list(lists) if lists else None), classes)
    val = None
    if val_lists:
        vm = load_manifest(data, list(val_lists))
        val = vm.subset([r for r in vm.records if r.class_name in names])
        if not len(val):
            raise ConfigError(f"--val-list has no videos of the classes being trained ({', '.join(names)})")
    enc = build_encoder(encoder, Path(weights) if weights else None, device, None, encoder_options)
    view = trainable_view(enc)  # one-line error for training-free / unsupported encoders, before any work
    identity = run_identity(enc, cfg, manifest, names, val)
    key = sha256_json(identity)
    cached = _prepare_run(out, identity, key, overwrite)
    if cached is not None:
        return FinetuneResult(out, True, cached, {})
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / RUN_FILE, {"key": key, "identity": identity})

    dev = enc.device
    head = make_head(enc.feature_dim, len(names), cfg)
    started = time.time()
    with torch.random.fork_rng(devices=[dev] if dev.type == "cuda" else []):
        report = train(
            view, head, items_of(manifest, names), cfg, out / CHECKPOINT_FILE, spec=enc.spec, device=dev,
            run_key=key, val_items=items_of(val, names) if val is not None else None, workers=n_workers,
            progress=progress,
        )
    doc = _write_outputs(out, enc, view, head, cfg, names, manifest, val, identity, key, report, started)
    (out / CHECKPOINT_FILE).unlink(missing_ok=True)  # finished: training.json marks it, the big state can go
    return FinetuneResult(out, False, doc, report.bad)


def _write_outputs(out, enc, view, head, cfg, names, manifest, val, identity, key, report, started) -> dict[str, Any]:
    from safetensors.torch import save_file

    from ..evaluators.results import result_document
    from ..fileio import atomic_path, atomic_write_json, sha256_file

    meta = {"format": "pt", "gesturebench": "finetune", "encoder": enc.name, "run_key": key}
    state = view.export_state()
    if view.export_files is not None:  # a from_pretrained folder (transformers wrappers)
        state = {k: v.detach().cpu().contiguous() for k, v in view.export_files(out, head, list(names)).items()}
    with atomic_path(out / MODEL_FILE, suffix=".safetensors") as tmp:
        save_file(state, str(tmp), metadata=meta)
    head_sd = {k: v.detach().cpu().contiguous() for k, v in head.state_dict().items()}
    with atomic_path(out / HEAD_FILE, suffix=".safetensors") as tmp:
        save_file(head_sd, str(tmp), metadata={**meta, "class_names": json.dumps(list(names))})
    history = report.history
    _curves(history, out / CURVES_FILE, enc.name)
    doc = result_document({
        "task": "finetune",
        "encoder": enc.name,
        "settings": {
            **cfg.to_dict(),
            "scaled_lr": cfg.scaled_lr,
            "total_batch": cfg.total_batch,
            "device": str(enc.device),
            "precision": "bf16" if cfg.precision == "auto" and enc.device.type == "cuda" else (
                "fp32" if cfg.precision == "auto" else cfg.precision),
        },
        "run_key": key,
        "identity": identity,
        "class_names": list(names),
        "train": {"sources": list(manifest.sources), "n": len(manifest), "manifest": manifest.content_hash()},
        "val": None if val is None else {"sources": list(val.sources), "n": len(val)},
        "history": history,
        "final": history[-1] if history else None,
        "parameters": {"trainable": report.trainable_parameters, "frozen": report.frozen_parameters},
        "steps": report.steps,
        "wall_seconds": sum(h["seconds"] for h in history),
        "resumed_from_epoch": report.resumed_from,
        "skipped": [{"video_id": k, "reason": v} for k, v in sorted(report.bad.items())],
        "outputs": {
            MODEL_FILE: sha256_file(out / MODEL_FILE),
            HEAD_FILE: sha256_file(out / HEAD_FILE),
        },
        "base_weights_sha256": enc.weights_sha256(),
    })
    atomic_write_json(out / TRAINING_FILE, doc)
    return doc


def _curves(history: list[dict[str, Any]], path: Path, title: str) -> None:
    from ..report.plots import _figure, _save

    epochs = [h["epoch"] for h in history]
    fig = _figure(8, 3.2)
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    ax1.plot(epochs, [h["train_loss"] for h in history], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("train loss (label-smoothed CE)")
    ax2.plot(epochs, [100 * h["train_accuracy"] for h in history], marker="o", label="train (augmented clips)")
    if any(h["val_accuracy"] is not None for h in history):
        ax2.plot(epochs, [None if h["val_accuracy"] is None else 100 * h["val_accuracy"] for h in history],
                 marker="s", label="validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("top-1 %")
    ax2.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"fine-tuning {title}")
    fig.tight_layout()
    _save(fig, path)
