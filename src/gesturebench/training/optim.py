"""Parameter groups with layer-wise lr decay and selective weight decay; the per-step lr schedule.

Follows the rules of the official VideoMAE / BEiT fine-tuning code (read in
MCG-NJU/VideoMAE ``optim_factory.py``; written afresh here):

* layer ``i`` of ``depth + 2`` (0 = embeddings, ``depth + 1`` = after the blocks,
  including the classifier head) gets ``lr * layer_decay ** (depth + 1 - i)``;
* 1-D parameters (norm weights), biases and position tables / class tokens get
  no weight decay;
* the lr rises linearly from ``warmup_lr`` to the peak over the warm-up steps, then
  follows a half cosine down to ``min_lr``; it is set before every optimiser step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn

from .config import FinetuneConfig
from .trainable import TrainableView


def decays(name: str, p: torch.Tensor, skip: frozenset[str]) -> bool:
    return not (p.ndim <= 1 or name.endswith(".bias") or name in skip)


def parameter_groups(
    view: TrainableView,
    encoder_params: Iterable[tuple[str, nn.Parameter]],
    head: nn.Module,
    cfg: FinetuneConfig,
) -> list[dict]:
    """AdamW groups keyed by (layer, decay); each carries its ``lr_scale``."""
    groups: dict[tuple[int, bool], dict] = {}
    top = view.depth + 1
    named = [(n, p, view.layer_id(n)) for n, p in encoder_params]
    named += [(f"head.{n}", p, top) for n, p in head.named_parameters()]
    for name, p, layer in named:
        wd = decays(name, p, view.no_weight_decay)
        g = groups.setdefault((layer, wd), {
            "params": [], "names": [], "layer": layer,
            "weight_decay": cfg.weight_decay if wd else 0.0,
            "lr_scale": cfg.layer_decay ** (top - layer),
        })
        g["params"].append(p)
        g["names"].append(name)
    return [groups[k] for k in sorted(groups)]


def make_optimizer(groups: list[dict], cfg: FinetuneConfig) -> torch.optim.AdamW:
    # names are kept for the record only; AdamW ignores unknown group keys
    return torch.optim.AdamW(groups, lr=cfg.scaled_lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=cfg.weight_decay)


def lr_schedule(cfg: FinetuneConfig, steps_per_epoch: int) -> np.ndarray:
    """Peak-relative lr for every optimiser step of the run (length ``epochs * steps_per_epoch``)."""
    total = cfg.epochs * steps_per_epoch
    peak = cfg.scaled_lr
    warm = min(total, int(round(cfg.warmup_epochs * steps_per_epoch)))
    out = np.empty(total, np.float64)
    if warm:
        out[:warm] = np.linspace(cfg.warmup_lr, peak, warm)
    rest = total - warm
    i = np.arange(rest, dtype=np.float64)
    out[warm:] = cfg.min_lr + 0.5 * (peak - cfg.min_lr) * (1.0 + np.cos(math.pi * i / max(rest, 1)))
    return out


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for g in optimizer.param_groups:
        g["lr"] = lr * g["lr_scale"]
