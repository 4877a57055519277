"""Unseen-class generalisation (task ``unseen``): the fine-tuning issue's ``DIR/unseen.json``.

Schema (issue #8, section 2)::

    folds: [{unseen: [class], seen: [class], n_test_unseen, n_test_seen,
             frozen: {unseen_accuracy, seen_accuracy}, finetuned: {unseen_accuracy, seen_accuracy}}]
    summary: {frozen: {...}, finetuned: {...}, difference: {mean, ci: [lo, hi]}, chance_unseen}

plus ``encoder``, ``settings``, ``provenance``, ``created`` and ``schema``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .base import TaskType, is_fraction, is_num

ARMS = ("frozen", "finetuned")


def _check_arm(where: str, arm: Any) -> str | None:
    if not isinstance(arm, dict):
        return f"{where} must be an object with unseen_accuracy and seen_accuracy"
    for key in ("unseen_accuracy", "seen_accuracy"):
        if arm.get(key) is not None and not is_fraction(arm.get(key)):
            return f"{where}.{key} must be a number in [0, 1] or null; got {arm.get(key)!r}"
    if not is_fraction(arm.get("unseen_accuracy")):
        return f"{where}.unseen_accuracy must be a number in [0, 1]; got {arm.get('unseen_accuracy')!r}"
    return None


class UnseenTask(TaskType):
    name = "unseen"
    title = "Unseen gesture classes"
    order = 50

    def settings_label(self, settings: Mapping[str, Any]) -> str:
        return f"{settings.get('method', 'head')}-u{settings.get('unseen_classes', '?')}"

    def validate(self, doc: Mapping[str, Any]) -> str | None:
        folds, summary = doc.get("folds"), doc.get("summary")
        if not isinstance(folds, list) or not folds:
            return "'folds' must be a non-empty list"
        for i, f in enumerate(folds):
            if not isinstance(f, dict):
                return f"folds[{i}] must be an object"
            for key in ("unseen", "seen"):
                if not isinstance(f.get(key), list) or not all(isinstance(c, str) for c in f[key]):
                    return f"folds[{i}].{key} must be a list of class names"
            for key in ("n_test_unseen", "n_test_seen"):
                if not isinstance(f.get(key), int) or f[key] < 0:
                    return f"folds[{i}].{key} must be an integer >= 0; got {f.get(key)!r}"
            for arm in ARMS:
                problem = _check_arm(f"folds[{i}].{arm}", f.get(arm))
                if problem:
                    return problem
        if not isinstance(summary, dict):
            return "'summary' must be an object"
        for arm in ARMS:
            problem = _check_arm(f"summary.{arm}", summary.get(arm))
            if problem:
                return problem
        diff = summary.get("difference")
        if not isinstance(diff, dict) or not is_num(diff.get("mean")):
            return "summary.difference must be an object with a numeric 'mean'"
        ci = diff.get("ci")
        if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(is_num(v) for v in ci) and ci[0] <= ci[1]):
            return f"summary.difference.ci must be null or [low, high]; got {ci!r}"
        if not is_fraction(summary.get("chance_unseen")):
            return f"summary.chance_unseen must be a number in [0, 1]; got {summary.get('chance_unseen')!r}"
        return None

    def section(self, entries, ctx):
        from ..report.sections import unseen_section

        return unseen_section(self, entries, ctx)


UNSEEN = UnseenTask()
