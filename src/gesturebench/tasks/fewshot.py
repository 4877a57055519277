"""Few-shot curves (task ``fewshot``): accuracy against labelled target videos per class."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import TaskType, is_fraction


class FewShotTask(TaskType):
    name = "fewshot"
    title = "Few-shot curves"
    order = 40
    identity_settings = ("method", "shots", "repeats", "seed", "k", "metric", "regularisation", "max_iter",
                         "weight_decay", "epochs", "class_balanced")

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        method = settings.get("method", "knn")
        if method == "knn":
            return f"{method}-k{settings.get('k')}"
        if settings.get("regularisation"):  # scikit-learn probe: Cauto, C0.5 or wd0.001 as requested
            return f"{method}-{settings['regularisation']}"
        return f"{method}-wd{settings.get('weight_decay')}"

    def inputs(self, doc: Mapping[str, Any]):
        base, pool, test = doc.get("base") or {}, doc.get("pool") or {}, doc.get("test") or {}
        return (
            ("base", str(base.get("source") or "none"), tuple(str(k) for k in base.get("keys") or ())),
            ("pool", str(pool.get("source", "pool")), (str(pool.get("key", "")),)),
            ("test", str(test.get("source", "test")), (str(test.get("key", "")),)),
        )

    def validate(self, doc: Mapping[str, Any]) -> str | None:
        for key, typ in (("class_names", list), ("curve", list), ("pool", dict), ("base", dict), ("test", dict)):
            if not isinstance(doc.get(key), typ):
                return f"{key!r} is missing or not a {typ.__name__}"
        if not is_fraction(doc.get("chance")):
            return f"'chance' must be a number in [0, 1]; got {doc.get('chance')!r}"
        for i, p in enumerate(doc["curve"]):
            if not isinstance(p, dict) or not isinstance(p.get("shots"), int) or not is_fraction(p.get("mean_accuracy")):
                return f"curve[{i}] must have integer 'shots' and 'mean_accuracy' in [0, 1]"
            ci = p.get("ci")
            if ci is not None and not (isinstance(ci, list) and len(ci) == 2):
                return f"curve[{i}].ci must be null or [low, high]; got {ci!r}"
        return None

    def section(self, entries, ctx):
        from ..report.sections import fewshot_section

        return fewshot_section(self, entries, ctx)


FEWSHOT = FewShotTask()
