"""The task-type registry: ``name -> "module:attr"``, imported on first use, no duplicates."""

from __future__ import annotations

import importlib

from ..errors import ConfigError, ResultError
from .base import TaskType

_TARGETS: dict[str, str] = {}
_LOADED: dict[str, TaskType] = {}


def register_task(name: str, target: str) -> None:
    """Register a task type by its import path ``"package.module:ATTR"`` (an instance)."""
    if name in _TARGETS:
        raise ConfigError(f"task type {name!r} is already registered ({_TARGETS[name]})")
    _TARGETS[name] = target


def task_names() -> tuple[str, ...]:
    return tuple(_TARGETS)


def get_task(name: object) -> TaskType:
    """The task type of a document's ``task``; :class:`ResultError` lists the known ones."""
    if not isinstance(name, str) or name not in _TARGETS:
        raise ResultError(f"task must be one of {', '.join(_TARGETS)}; got {name!r}")
    if name not in _LOADED:
        module, _, attr = _TARGETS[name].partition(":")
        task = getattr(importlib.import_module(module), attr)
        if task.name != name:
            raise ConfigError(f"task type at {_TARGETS[name]} calls itself {task.name!r}, registered as {name!r}")
        _LOADED[name] = task
    return _LOADED[name]


def all_tasks() -> list[TaskType]:
    """Every task type, in report order."""
    return sorted((get_task(n) for n in _TARGETS), key=lambda t: (t.order, t.name))


for _name, _target in (
    ("knn", "gesturebench.tasks.classification:KNN"),
    ("probe", "gesturebench.tasks.classification:PROBE"),
    ("zeroshot", "gesturebench.tasks.classification:ZEROSHOT"),
    ("fewshot", "gesturebench.tasks.fewshot:FEWSHOT"),
    ("unseen", "gesturebench.tasks.unseen:UNSEEN"),
    ("finetune", "gesturebench.tasks.finetune:FINETUNE"),
    ("bench", "gesturebench.tasks.bench:BENCH"),
):
    register_task(_name, _target)
