"""The fine-tuning recipe as one frozen, validated value.

Defaults follow the official VideoMAE fine-tuning script (MCG-NJU/VideoMAE
``run_class_finetuning.py`` and ``optim_factory.py``), which UMT's
single-modality fine-tuning (OpenGVLab/unmasked_teacher) reuses; docs/finetune.md
lists each default with its source and where we depart (flip off, no
mixup/cutmix/RandAugment/random erasing, no repeated augmentation).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from ..errors import ConfigError, check_choice

MODES = ("head", "partial", "full")
PRECISIONS = ("auto", "fp32", "bf16")


def _number(name: str, value: object, lo: float, hi: float, lo_open: bool = False, hi_open: bool = False) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        lb, rb = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ConfigError(f"{name} must be a number in {lb}{lo:g}, {hi:g}{rb}; got {value!r}")


def _count(name: str, value: object, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ConfigError(f"{name} must be an integer >= {lo}; got {value!r}")


@dataclass(frozen=True)
class FinetuneConfig:
    """Everything that determines a fine-tuning run besides data and encoder.

    ``lr`` is the *base* rate for a total batch of 256 clips; the rate used is
    ``lr * batch_size * accumulate / 256`` (the official scripts' linear scaling).
    """

    mode: str = "full"
    unfreeze_blocks: int = 2  # partial mode only: the last N blocks train
    epochs: int = 30
    batch_size: int = 8
    accumulate: int = 1
    lr: float = 1e-3
    min_lr: float = 1e-6
    warmup_lr: float = 1e-6
    warmup_epochs: float = 5.0
    weight_decay: float = 0.05
    layer_decay: float = 0.75
    label_smoothing: float = 0.1
    drop_path: float = 0.1
    head_init_scale: float = 0.001
    clip_grad: float | None = None
    crop_scale: tuple[float, float] = (0.08, 1.0)
    crop_ratio: tuple[float, float] = (0.75, 4.0 / 3.0)
    flip: bool = False
    seed: int = 0
    precision: str = "auto"  # auto: bf16 autocast on CUDA, fp32 elsewhere
    compile: bool = False

    def __post_init__(self) -> None:
        check_choice("mode", self.mode, MODES)
        check_choice("precision", self.precision, PRECISIONS)
        _count("unfreeze_blocks", self.unfreeze_blocks, 1)
        _count("epochs", self.epochs, 1)
        _count("batch_size", self.batch_size, 1)
        _count("accumulate", self.accumulate, 1)
        _count("seed", self.seed, 0)
        _number("lr", self.lr, 0.0, 10.0, lo_open=True)
        _number("min_lr", self.min_lr, 0.0, 10.0)
        _number("warmup_lr", self.warmup_lr, 0.0, 10.0)
        _number("warmup_epochs", self.warmup_epochs, 0.0, float(self.epochs))
        _number("weight_decay", self.weight_decay, 0.0, 10.0)
        _number("layer_decay", self.layer_decay, 0.0, 1.0, lo_open=True)
        _number("label_smoothing", self.label_smoothing, 0.0, 1.0, hi_open=True)
        _number("drop_path", self.drop_path, 0.0, 1.0, hi_open=True)
        _number("head_init_scale", self.head_init_scale, 0.0, 10.0, lo_open=True)
        if self.clip_grad is not None:
            _number("clip_grad", self.clip_grad, 0.0, 1e6, lo_open=True)
        for name in ("crop_scale", "crop_ratio"):
            lo_hi = tuple(float(v) for v in getattr(self, name))
            if len(lo_hi) != 2 or not 0.0 < lo_hi[0] <= lo_hi[1] or (name == "crop_scale" and lo_hi[1] > 1.0):
                raise ConfigError(f"{name} must be (low, high) with 0 < low <= high{' <= 1' if name == 'crop_scale' else ''}; got {getattr(self, name)!r}")
            object.__setattr__(self, name, lo_hi)

    @property
    def total_batch(self) -> int:
        return self.batch_size * self.accumulate

    @property
    def scaled_lr(self) -> float:
        return self.lr * self.total_batch / 256.0

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["crop_scale"], d["crop_ratio"] = list(self.crop_scale), list(self.crop_ratio)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FinetuneConfig:
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - allowed)
        if unknown:
            raise ConfigError(f"unknown fine-tuning setting(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        d = dict(d)
        for name in ("crop_scale", "crop_ratio"):
            if name in d:
                d[name] = tuple(d[name])
        return cls(**d)

    # settings that change only how fast a run goes, not what it computes (left out of its identity)
    NOT_IDENTITY = ("compile",)

    def identity(self) -> dict[str, Any]:
        return {k: v for k, v in self.to_dict().items() if k not in self.NOT_IDENTITY}
