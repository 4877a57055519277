"""Task types: each result kind declares its settings identity, file name, schema and report section once.

See :mod:`.base` for the contract and :mod:`.registry` for the lookup.
"""

from .base import SCHEMA, Identity, TaskType
from .registry import all_tasks, get_task, register_task, task_names

__all__ = ["SCHEMA", "Identity", "TaskType", "all_tasks", "get_task", "register_task", "task_names"]
