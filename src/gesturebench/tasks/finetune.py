"""Fine-tuning runs (task ``finetune``): the fine-tuning issue's ``RUN/training.json``.

Fields read by the report (issue #8, section 1): ``encoder``, ``settings`` (the
resolved config: ``mode``, ``epochs``, ``lr``, ``batch_size``, ...), ``history``:
one object per finished epoch with ``epoch``, ``train_loss``, ``train_accuracy``
and optionally ``val_accuracy`` and ``seconds``; ``wall_seconds``; plus the
``schema``, ``provenance`` and ``created`` every result carries (as written by
:mod:`gesturebench.api.finetune`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import TaskType, is_fraction, is_num

#: per-epoch list: the name api.finetune writes, and one we also read
EPOCH_KEYS = ("history", "epochs")


def epochs_of(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    for key in EPOCH_KEYS:
        if isinstance(doc.get(key), list):
            return doc[key]
    return []


class FinetuneTask(TaskType):
    name = "finetune"
    title = "Fine-tuning runs"
    order = 60

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        return f"{settings.get('mode', 'full')}-e{settings.get('epochs', '?')}"

    def validate(self, doc: Mapping[str, Any]) -> str | None:
        if not any(isinstance(doc.get(k), list) for k in EPOCH_KEYS):
            return "'history' must be a list of per-epoch records"
        for i, e in enumerate(epochs_of(doc)):
            if not isinstance(e, dict):
                return f"history[{i}] must be an object"
            if e.get("train_loss") is not None and not is_num(e.get("train_loss")):
                return f"history[{i}].train_loss must be a number; got {e.get('train_loss')!r}"
            for key in ("train_accuracy", "val_accuracy"):
                if e.get(key) is not None and not is_fraction(e.get(key)):
                    return f"history[{i}].{key} must be a number in [0, 1] or null; got {e.get(key)!r}"
        return None

    def section(self, entries, ctx):
        from ..report.sections import finetune_section

        return finetune_section(self, entries, ctx)


FINETUNE = FinetuneTask()
