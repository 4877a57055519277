"""Fine-tuning: recipe (config), trainable views of encoders, optimiser and schedule, loop, checkpoints.

Names load on first use, so ``import gesturebench.training`` imports no torch.
"""

from __future__ import annotations

from ..lazy import lazy_getattr

_EXPORTS = {
    "FinetuneConfig": ".config",
    "MODES": ".config",
    "TrainingReport": ".loop",
    "train": ".loop",
    "trainable_view": ".trainable",
}

__all__ = sorted(_EXPORTS)

__getattr__ = lazy_getattr(__name__, _EXPORTS)
