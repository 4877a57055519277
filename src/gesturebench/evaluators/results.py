"""Result files: one JSON per evaluation run, with everything needed to trust it.

A result file is the evaluator's ``to_dict()`` plus ``schema``, ``created``
(UTC) and ``provenance`` (git revision, library versions, machine). Files are
written atomically under a templated name, e.g.
``knn__motion__train-synthetic+target__test-target__k3-l2.json``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ResultError
from ..fileio import atomic_write_json

SCHEMA = "gesturebench.result/1"
TASKS = ("knn", "zeroshot", "probe")


def _slug(text: Any) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "-", str(text)).strip("-") or "none"


def result_document(result: Any) -> dict[str, Any]:
    """The full JSON body for a result dataclass (or an already built dict)."""
    from ..provenance import provenance

    doc = dict(result.to_dict() if hasattr(result, "to_dict") else result)
    doc["schema"] = SCHEMA
    doc.setdefault("created", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    doc.setdefault("provenance", provenance())
    return doc


def result_filename(doc: dict[str, Any]) -> str:
    """Templated file name identifying the run's encoder, data and settings."""
    s = doc.get("settings", {})
    enc = _slug(doc.get("encoder", "unknown"))
    test = _slug(doc.get("test", {}).get("source", "test"))
    if doc.get("task") == "zeroshot":
        return f"zeroshot__{enc}__test-{test}__{_slug(s.get('prompt_set', 'custom'))}.json"
    train = _slug(doc.get("train", {}).get("source", "train"))
    if doc.get("task") == "probe":
        return f"probe__{enc}__train-{train}__test-{test}__wd{s.get('weight_decay'):g}.json"
    return f"knn__{enc}__train-{train}__test-{test}__k{s.get('k')}-{_slug(s.get('metric'))}.json"


def write_result(result: Any, out: str | Path) -> Path:
    """Write a result atomically; ``out`` is a ``.json`` file or a folder (templated name)."""
    doc = result_document(result)
    problem = validate_document(doc)
    if problem:
        raise ResultError(f"refusing to write an invalid result: {problem}")
    out = Path(out)
    path = out if out.suffix.lower() == ".json" else out / result_filename(doc)
    atomic_write_json(path, doc)
    return path


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def validate_document(doc: Any) -> str | None:
    """First schema problem of a result document, or None."""
    if not isinstance(doc, dict):
        return "top level must be a JSON object"
    if doc.get("schema") != SCHEMA:
        return f"schema must be {SCHEMA!r}; got {doc.get('schema')!r}"
    if doc.get("task") not in TASKS:
        return f"task must be one of {', '.join(TASKS)}; got {doc.get('task')!r}"
    for key, typ in (("encoder", str), ("settings", dict), ("class_names", list), ("metrics", dict),
                     ("train", dict), ("test", dict), ("confusion", list)):
        if not isinstance(doc.get(key), typ):
            return f"{key!r} is missing or not a {typ.__name__}"
    classes = doc["class_names"]
    if not classes or not all(isinstance(c, str) for c in classes):
        return "'class_names' must be a non-empty list of strings"
    m = doc["metrics"]
    for key in ("accuracy", "mean_per_class_accuracy", "chance"):
        if not _is_num(m.get(key)) or not 0.0 <= m[key] <= 1.0:
            return f"metrics.{key} must be a number in [0, 1]; got {m.get(key)!r}"
    ci = m.get("ci")
    if ci is not None and not (isinstance(ci, list) and len(ci) == 2 and all(_is_num(v) for v in ci) and ci[0] <= ci[1]):
        return f"metrics.ci must be null or [low, high]; got {ci!r}"
    c = len(classes)
    cm = doc["confusion"]
    if len(cm) != c or not all(isinstance(r, list) and len(r) == c and all(isinstance(v, int) and v >= 0 for v in r) for r in cm):
        return f"'confusion' must be a {c}x{c} matrix of counts"
    if not isinstance(doc["train"].get("source"), str) or not isinstance(doc["test"].get("source"), str):
        return "'train.source' and 'test.source' must be strings"
    if not isinstance(doc["train"].get("keys"), list):
        return "'train.keys' must be a list of store keys"
    required = {"knn": ("k", "metric"), "probe": ("weight_decay",)}.get(doc["task"], ())
    for key in required:
        if key not in doc["settings"]:
            return f"settings.{key} is missing"
    return None


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


def load_results(source: str | Path | Iterable[str | Path]) -> list[tuple[Path, dict[str, Any]]]:
    """All result files of a folder (``*.json``, sorted) or of an explicit list of paths."""
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise ResultError(f"results folder not found: {folder}")
        paths = sorted(p for p in folder.glob("*.json") if not p.name.startswith(".tmp-"))
        if not paths:
            raise ResultError(f"no result files (*.json) in {folder}")
    else:
        paths = [Path(p) for p in source]
    return [(p, load_result(p)) for p in paths]
