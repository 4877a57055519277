"""The fine-tuning loop: epochs of (train-mode clips -> encoder -> head -> smoothed CE), checkpoint after each.

A checkpoint (model, head, optimiser, step, torch RNG, finished epochs,
history) is written atomically after every epoch. Resuming restores all of
it; with the clip randomness derived from (seed, epoch, video) the resumed
run computes, on CPU, the same tensors bit for bit as an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..encoders.base import InputSpec
from ..errors import TrainingError
from ..fileio import atomic_path
from .clips import TrainClipLoader, eval_loader, rng_for
from .config import FinetuneConfig
from .optim import lr_schedule, make_optimizer, parameter_groups, set_lr
from .trainable import NothingToTrainError, TrainableView, select_trainable

log = logging.getLogger(__name__)

#: (video id, absolute path, label)
Item = tuple[str, str, int]
Progress = Callable[..., None]


@dataclass
class TrainingReport:
    history: list[dict[str, Any]]
    resumed_from: int  # epochs already done when this call started
    seconds: float  # wall time of the epochs run in this call
    bad: dict[str, str] = field(default_factory=dict)  # video id -> reason (skipped)
    trainable_parameters: int = 0
    frozen_parameters: int = 0
    steps: int = 0


def make_head(dim: int, num_classes: int, cfg: FinetuneConfig) -> nn.Linear:
    """Linear classifier: truncated-normal(0.02) weights and zero bias, both scaled by ``head_init_scale``
    (the official fine-tuning models' ``init_scale``), from a generator seeded with ``cfg.seed``."""
    g = torch.Generator().manual_seed(cfg.seed)
    head = nn.Linear(dim, num_classes)
    with torch.no_grad():
        w = torch.randn(head.weight.shape, generator=g).clamp_(-2.0, 2.0) * 0.02
        head.weight.copy_(w * cfg.head_init_scale)
        head.bias.zero_()
    return head


def _batches(stream, batch_size: int, labels: dict[int, int], bad: dict[str, str], ids: list[str]):
    clips, ys = [], []
    for row, clip, reason in stream:
        if clip is None:
            bad[ids[row]] = reason or "unknown"
            continue
        clips.append(clip)
        ys.append(labels[row])
        if len(clips) == batch_size:
            yield np.stack(clips), np.asarray(ys, np.int64)
            clips, ys = [], []
    if clips:
        yield np.stack(clips), np.asarray(ys, np.int64)


def _oom_message(cfg: FinetuneConfig, device: torch.device) -> str:
    b = cfg.batch_size
    if b == 1:
        return (f"CUDA out of memory on {device} at --batch-size 1; use --mode partial/head, fewer frames, "
                "or a larger GPU")
    fit = max(1, b // 2)
    acc = math.ceil(cfg.total_batch / fit)
    return (f"CUDA out of memory on {device} at --batch-size {b}; try --batch-size {fit} --accumulate {acc} "
            f"(same total batch of {fit * acc})")


def evaluate(view: TrainableView, head: nn.Module, items: list[Item], spec: InputSpec, batch_size: int,
             device: torch.device, precision: str, workers: int, bad: dict[str, str]) -> float | None:
    """Top-1 accuracy of encoder + head on test-mode clips of ``items``; None when none decode."""
    from ..encoders.preprocess import normalize
    from ..features.loader import stream_clips
    from ..runtime import autocast_context

    if not items:
        return None
    view.module.eval()
    head.eval()
    loader = eval_loader(spec)
    ids = [i[0] for i in items]
    labels = {r: it[2] for r, it in enumerate(items)}
    correct = total = 0
    stream = stream_clips(((r, it[1]) for r, it in enumerate(items)), loader, workers, 4 * batch_size)
    with torch.inference_mode(), autocast_context(device, precision):
        for x, y in _batches(stream, batch_size, labels, bad, ids):
            logits = head(view.forward(normalize(torch.from_numpy(x).to(device), spec)).float())
            correct += int((logits.argmax(1).cpu() == torch.from_numpy(y)).sum())
            total += len(y)
    return correct / total if total else None


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def train(
    view: TrainableView,
    head: nn.Module,
    items: list[Item],
    cfg: FinetuneConfig,
    checkpoint: Path,
    *,
    spec: InputSpec,
    device: torch.device,
    run_key: str,
    val_items: list[Item] | None = None,
    workers: int = 0,
    progress: Progress | None = None,
) -> TrainingReport:
    """Train ``head`` (and the encoder parameters ``cfg.mode`` unfreezes) on ``items``; resume from ``checkpoint``."""
    from ..encoders.preprocess import normalize
    from ..features.loader import stream_clips
    from ..runtime import autocast_context

    if not items:
        raise TrainingError("no training videos")
    enc_params = select_trainable(view, cfg.mode, cfg.unfreeze_blocks)
    n_train = sum(p.numel() for _, p in enc_params) + sum(p.numel() for p in head.parameters())
    n_frozen = sum(p.numel() for p in view.module.parameters() if not p.requires_grad)
    if n_train == 0:
        raise NothingToTrainError(f"mode {cfg.mode!r} leaves nothing to train")
    encoder_trains = bool(enc_params)
    if view.set_drop_path is not None:
        view.set_drop_path(cfg.drop_path if encoder_trains else 0.0)
    head.to(device)
    groups = parameter_groups(view, enc_params, head, cfg)
    optimizer = make_optimizer(groups, cfg)
    micro_per_epoch = math.ceil(len(items) / cfg.batch_size)
    steps_per_epoch = math.ceil(micro_per_epoch / cfg.accumulate)
    schedule = lr_schedule(cfg, steps_per_epoch)
    forward = torch.compile(view.forward) if cfg.compile else view.forward

    history: list[dict[str, Any]] = []
    start_epoch, step = 0, 0
    torch.manual_seed(cfg.seed)  # drop-path masks; the caller's RNG is restored by fork_rng in the API
    if checkpoint.is_file():
        state = torch.load(checkpoint, map_location="cpu", weights_only=True)
        if state.get("run_key") != run_key:
            raise TrainingError(f"checkpoint {checkpoint} belongs to another run (key {str(state.get('run_key'))[:12]})")
        view.module.load_state_dict(state["model"])
        head.load_state_dict(state["head"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, step, history = int(state["epoch"]), int(state["step"]), list(state["history"])
        torch.set_rng_state(state["rng_torch"])
        if device.type == "cuda" and state.get("rng_cuda") is not None:
            torch.cuda.set_rng_state_all(state["rng_cuda"])
        log.info("resuming %s after epoch %d", checkpoint.parent, start_epoch)

    ids = [i[0] for i in items]
    labels = {r: it[2] for r, it in enumerate(items)}
    bad: dict[str, str] = {}
    began = time.perf_counter()
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        view.module.train(encoder_trains)
        head.train()
        order = rng_for(cfg.seed, "order", epoch).permutation(len(items))
        loader = TrainClipLoader(spec, cfg.seed, epoch, ids, cfg.crop_scale, cfg.crop_ratio, cfg.flip)
        stream = stream_clips(((int(r), items[r][1]) for r in order), loader, workers, 4 * cfg.batch_size)
        if progress:
            progress("epoch_start", epoch=epoch + 1, epochs=cfg.epochs, total=len(items))
        loss_sum = 0.0
        correct = seen = micro = 0
        optimizer.zero_grad(set_to_none=True)
        pending = False
        for x, y in _batches(stream, cfg.batch_size, labels, bad, ids):
            xb = normalize(torch.from_numpy(x).to(device), spec)
            yb = torch.from_numpy(y).to(device)
            try:
                with autocast_context(device, cfg.precision):
                    ctx = contextlib.nullcontext() if encoder_trains else torch.no_grad()
                    with ctx:
                        feats = forward(xb)
                    logits = head(feats.float())
                loss = F.cross_entropy(logits.float(), yb, label_smoothing=cfg.label_smoothing)
                (loss / cfg.accumulate).backward()
            except torch.OutOfMemoryError:
                raise TrainingError(_oom_message(cfg, device)) from None
            pending = True
            micro += 1
            loss_sum += float(loss.detach()) * len(y)
            correct += int((logits.detach().argmax(1) == yb).sum())
            seen += len(y)
            if micro % cfg.accumulate == 0:
                _step(optimizer, schedule, step, cfg, groups)
                step += 1
                pending = False
            if progress:
                el = time.perf_counter() - t0
                progress("batch", done=seen, loss=loss_sum / seen, accuracy=correct / seen,
                         clips_per_s=seen / el if el > 0 else 0.0)
        if pending:  # a last, short accumulation group
            _step(optimizer, schedule, step, cfg, groups)
            step += 1
        val_bad: dict[str, str] = {}
        val_acc = (evaluate(view, head, val_items, spec, cfg.batch_size, device, cfg.precision, workers, val_bad)
                   if val_items else None)
        bad.update(val_bad)
        record = {
            "epoch": epoch + 1,
            "train_loss": loss_sum / seen if seen else None,
            "train_accuracy": correct / seen if seen else None,
            "val_accuracy": val_acc,
            "lr_end": float(schedule[min(step, len(schedule)) - 1]) if step else None,
            "clips": seen,
            "seconds": time.perf_counter() - t0,
        }
        if not seen:
            raise TrainingError(f"epoch {epoch + 1}: none of the {len(items)} training videos could be decoded")
        history.append(record)
        _save_checkpoint(checkpoint, {
            "run_key": run_key, "epoch": epoch + 1, "step": step, "history": history,
            "model": view.module.state_dict(), "head": head.state_dict(), "optimizer": optimizer.state_dict(),
            "rng_torch": torch.get_rng_state(),
            "rng_cuda": torch.cuda.get_rng_state_all() if device.type == "cuda" else None,
        })
        if progress:
            progress("epoch_end", **record)
    view.module.eval()
    head.eval()
    return TrainingReport(history, start_epoch, time.perf_counter() - began, bad, n_train, n_frozen, step)


def _step(optimizer, schedule: np.ndarray, step: int, cfg: FinetuneConfig, groups) -> None:
    set_lr(optimizer, float(schedule[min(step, len(schedule) - 1)]))
    if cfg.clip_grad is not None:
        params = [p for g in groups for p in g["params"] if p.grad is not None]
        torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
