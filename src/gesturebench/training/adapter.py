"""An MLP adapter trained on frozen features of the seen classes; its hidden layer is the new embedding.

The cheap, CPU-friendly stand-in for fine-tuning in the unseen-class
protocol (``gesturebench unseen --method head``). On a training-free encoder
(``motion``, ``pixels``) it is *an adapter on training-free features, not a
fine-tuned foundation model*, and is named so wherever it is printed.

Features are standardised with the training rows' mean and std; the network
is ``Linear(D, hidden) -> GELU -> Linear(hidden, seen classes)``, trained with
AdamW and label-smoothed cross-entropy, mini-batches in a seeded order. The
embedding for k-NN is the GELU output. Deterministic for a seed on CPU.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..errors import ConfigError

TRAINING_FREE = "an adapter on training-free features, not a fine-tuned foundation model"


@dataclass(frozen=True)
class AdapterConfig:
    hidden: int = 256
    epochs: int = 100
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    dropout: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("hidden", "epochs", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"adapter {name} must be an integer >= 1; got {v!r}")
        if not self.lr > 0 or self.weight_decay < 0 or not 0 <= self.label_smoothing < 1 or not 0 <= self.dropout < 1:
            raise ConfigError(f"adapter settings out of range: {self}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Adapter(nn.Module):
    def __init__(self, dim: int, hidden: int, classes: int, dropout: float) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.fc1 = nn.Linear(dim, hidden)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.fc1((x - self.mean) / self.std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.drop(self.embed(x)))


def fit_adapter(x: np.ndarray, y: np.ndarray, num_classes: int, cfg: AdapterConfig) -> Adapter:
    """Train an :class:`Adapter` on ``x`` (N, D) float, ``y`` in 0..num_classes-1."""
    x_t = torch.as_tensor(np.asarray(x, np.float32))
    y_t = torch.as_tensor(np.asarray(y, np.int64))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(cfg.seed)
        model = Adapter(x_t.shape[1], cfg.hidden, num_classes, cfg.dropout)
        model.mean.copy_(x_t.mean(0))
        model.std.copy_(x_t.std(0, unbiased=False) + 1e-6)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        steps = cfg.epochs * -(-len(y_t) // cfg.batch_size)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
        g = torch.Generator().manual_seed(cfg.seed)
        model.train()
        for _ in range(cfg.epochs):
            order = torch.randperm(len(y_t), generator=g)
            for s in range(0, len(order), cfg.batch_size):
                idx = order[s : s + cfg.batch_size]
                loss = F.cross_entropy(model(x_t[idx]), y_t[idx], label_smoothing=cfg.label_smoothing)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()
    return model.eval()


def embed(model: Adapter, x: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model.embed(torch.as_tensor(np.asarray(x, np.float32))).numpy()
