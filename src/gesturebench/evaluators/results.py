"""Result files: one JSON per evaluation run, with everything needed to trust it.

A result file is the evaluator's ``to_dict()`` plus ``schema``, ``created``
(UTC) and ``provenance`` (git revision, library versions, machine). Its name
comes from the task type's identity (:mod:`gesturebench.tasks`): task, encoder,
short weights hash, each input store's source and short key, a settings label
and a short hash of the settings, e.g.
``knn__motion__train-synthetic.1a2b3c4d__test-target.9f8e7d6c__k3-l2__s-0a1b2c3d.json``.
A different evaluation never replaces another's file: writing over a file that
holds another identity is refused unless ``overwrite``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ResultError
from ..fileio import atomic_write_json
from ..tasks.base import SCHEMA

if TYPE_CHECKING:
    from ..tasks.base import Identity


def task_names() -> tuple[str, ...]:
    from ..tasks import task_names as names

    return names()


def result_document(result: Any) -> dict[str, Any]:
    """The full JSON body for a result dataclass (or an already built dict)."""
    from ..provenance import provenance

    doc = dict(result.to_dict() if hasattr(result, "to_dict") else result)
    doc["schema"] = SCHEMA
    doc.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    doc.setdefault("provenance", provenance())
    return doc


def result_identity(doc: Mapping[str, Any]) -> Identity:
    from ..tasks import get_task

    return get_task(doc.get("task")).identity(doc)


def result_filename(doc: Mapping[str, Any]) -> str:
    """Templated file name identifying the run's task, encoder, weights, stores and settings."""
    return result_identity(doc).filename()


def result_path(out: str | Path, identity: Identity) -> Path:
    """Where a result of ``identity`` goes: ``out`` itself if it names a ``.json`` file, else a templated name in it."""
    out = Path(out)
    return out if out.suffix.lower() == ".json" else out / identity.filename()


def cached_result(out: str | Path, identity: Identity) -> tuple[Path, dict[str, Any]] | None:
    """The result file of exactly this evaluation under ``out``, if one exists and is valid."""
    path = result_path(out, identity)
    if not path.is_file():
        return None
    try:
        doc = load_result(path)
    except ResultError:
        return None
    return (path, doc) if result_identity(doc).full() == identity.full() else None


def write_result(result: Any, out: str | Path, *, overwrite: bool = False) -> Path:
    """Write a result atomically; ``out`` is a ``.json`` file or a folder (templated name).

    A file already holding *another* evaluation is never replaced silently: that is a
    :class:`ResultError` naming what differs, unless ``overwrite``.
    """
    doc = result_document(result)
    problem = validate_document(doc)
    if problem:
        raise ResultError(f"refusing to write an invalid result: {problem}")
    ident = result_identity(doc)
    path = result_path(out, ident)
    if path.exists() and not overwrite:
        try:
            old = load_result(path)
        except ResultError as exc:
            raise ResultError(f"{path} exists and is not a valid result ({exc}); pass --overwrite to replace it") from None
        if result_identity(old).full() != ident.full():
            what = ", ".join(result_identity(old).differences(ident)) or "its identity"
            raise ResultError(f"{path} holds another evaluation (differs in {what}); "
                              "refusing to replace it (pass --overwrite, or write to a folder)")
    atomic_write_json(path, doc)
    return path


def validate_document(doc: Any) -> str | None:
    """First schema problem of a result document, or None (common fields, then the task's own)."""
    from ..tasks import get_task

    if not isinstance(doc, dict):
        return "top level must be a JSON object"
    if doc.get("schema") != SCHEMA:
        return f"schema must be {SCHEMA!r}; got {doc.get('schema')!r}"
    try:
        task = get_task(doc.get("task"))
    except ResultError as exc:
        return str(exc)
    if not isinstance(doc.get("encoder"), str):
        return "'encoder' is missing or not a str"
    if not isinstance(doc.get("settings"), dict):
        return "'settings' is missing or not a dict"
    return task.validate(doc)


def load_result(path: str | Path) -> dict[str, Any]:
    """Read and validate one result file; :class:`ResultError` names the file and the problem."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultError(f"result file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultError(f"cannot read result file {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ResultError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    problem = validate_document(doc)
    if problem:
        raise ResultError(f"{path}: {problem}")
    return doc


def _is_result_candidate(path: Path) -> bool:
    return path.suffix == ".json" and not path.name.startswith(".tmp-")


def load_results(source: str | Path | Iterable[str | Path]) -> list[tuple[Path, dict[str, Any]]]:
    """All result files of a folder (``*.json``, sorted) or of an explicit list of paths."""
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise ResultError(f"results folder not found: {folder}")
        paths = sorted(p for p in folder.glob("*.json") if _is_result_candidate(p))
        if not paths:
            raise ResultError(f"no result files (*.json) in {folder}")
    else:
        paths = [Path(p) for p in source]
    return [(p, load_result(p)) for p in paths]


__all__ = ["SCHEMA", "cached_result", "load_result", "load_results", "result_document", "result_filename",
           "result_identity", "result_path", "validate_document", "write_result"]
