"""Checks every train/test evaluation runs first: no shared videos, no mixed extraction settings.

Pure functions on :class:`~gesturebench.types.FeatureSet` s (their ``meta`` is the store's
``store.json``), called by k-NN, the linear probe and few-shot curves.

* **Leakage** (:func:`check_no_overlap`): a test video that is also a training video
  inflates accuracy without a word (``knn --train S --test S`` scores 86%). Two videos
  are the same when they have the same file (manifest root + root-relative path, for
  sets loaded from stores) or bit-identical feature rows (the same content under another
  name or root; the only test for sets built in code). ``allow_overlap=True`` proceeds, for users who
  mean it.
* **Settings** (:func:`check_same_extraction`): training on 16-frame and testing on
  8-frame features, or TSN against uniform sampling, compares vectors that mean different
  things. Every setting that determines features must agree, except which videos were
  read (manifest, files).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from ..errors import EvaluationError
from ..types import FeatureSet

#: extraction settings that say which videos were read, not how: they may differ
SOURCE_SETTINGS = ("manifest", "files", "package_version", "format_version", "joints_only")
ALLOW_HINT = "pass --allow-overlap (allow_overlap=True) to evaluate anyway"


def _root(fs: FeatureSet) -> str | None:
    manifest = fs.meta.get("manifest") if isinstance(fs.meta, dict) else None
    root = manifest.get("root") if isinstance(manifest, dict) else None
    return str(root) if isinstance(root, str) else None


def _file_ids(fs: FeatureSet) -> list[str]:
    root = _root(fs)
    return [str(PurePosixPath(root) / v) if root else v for v in fs.video_ids]


def _row_digests(fs: FeatureSet) -> list[bytes]:
    import numpy as np

    x = np.ascontiguousarray(fs.features, dtype=np.float32)
    return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in x]


def find_overlap(train: Sequence[FeatureSet], test: FeatureSet) -> dict[str, Any]:
    """Test rows that are also training videos: ``{"rows", "by_file", "by_content", "example"}``."""
    # Same file: only decidable for sets loaded from stores (they record their manifest root);
    # sets built in code are compared by content alone.
    rooted = [fs for fs in train if _root(fs) is not None]
    files = {f for fs in rooted for f in _file_ids(fs)}
    test_files = _file_ids(test) if _root(test) is not None else []
    digests = {d for fs in train if fs.dim == test.dim for d in _row_digests(fs)}
    test_digests = _row_digests(test)
    by_file = {i for i, f in enumerate(test_files) if f in files}
    by_content = {i for i, d in enumerate(test_digests) if d in digests}
    rows = sorted(by_file | by_content)
    return {
        "rows": rows,
        "by_file": len(by_file),
        "by_content": len(by_content),
        "example": test.video_ids[rows[0]] if rows else None,
    }


def check_no_overlap(train: Sequence[FeatureSet], test: FeatureSet, allow_overlap: bool = False) -> dict[str, Any]:
    """Refuse (EvaluationError) when test videos are also training videos, naming the count.

    Returns :func:`find_overlap`'s summary (recorded in result settings when allowed).
    """
    found = find_overlap(train, test)
    n = len(found["rows"])
    if n and not allow_overlap:
        raise EvaluationError(
            f"train and test share {n} of {len(test)} test video(s) ({found['by_file']} by file, "
            f"{found['by_content']} by identical features; e.g. {found['example']}): test accuracy would be "
            f"inflated; {ALLOW_HINT}"
        )
    return found


def _settings(fs: FeatureSet) -> dict[str, Any] | None:
    settings = fs.meta.get("settings") if isinstance(fs.meta, dict) else None
    if not isinstance(settings, dict):
        return None
    return {k: v for k, v in settings.items() if k not in SOURCE_SETTINGS}


def check_same_extraction(sets: Sequence[tuple[str, FeatureSet]]) -> None:
    """Refuse (EvaluationError) feature sets extracted with different settings, naming the fields.

    ``sets`` are ``(name, feature set)``, e.g. ``[("training set 1", a), ("test set", b)]``;
    sets without store metadata (built in code) are not compared.
    """
    from ..features.store import diff_settings

    known = [(name, s) for name, fs in sets if (s := _settings(fs)) is not None]
    if len(known) < 2:
        return
    if any(isinstance(fs.meta, dict) and "joints_only" in (fs.meta.get("settings") or {}) for _, fs in sets):
        # a `synth --joints-only` pose store decoded no video: its rows are the same function of a pose
        # track as detected pose features, so it is compared with them on everything but the decoder
        for _, s in known:
            s.pop("decoder", None)
    ref_name, ref = known[0]
    for name, other in known[1:]:
        changed = diff_settings(ref, other)
        if changed:
            shown = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
            detail = "; ".join(
                f"{field}: {_value(ref, field)} vs {_value(other, field)}" for field in changed[:3]
            )
            raise EvaluationError(
                f"{ref_name} and {name} were extracted with different settings ({shown}; {detail}); "
                "extract both with the same encoder, sampler, frames and preprocessing"
            )


def _value(settings: dict[str, Any], dotted: str) -> str:
    cur: Any = settings
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return "missing"
        cur = cur[part]
    text = repr(cur)
    return text if len(text) <= 40 else text[:37] + "..."


def check_pair(
    train: Sequence[FeatureSet], test: FeatureSet, *, allow_overlap: bool = False
) -> dict[str, Any]:
    """Both checks for one evaluation; returns the overlap summary."""
    check_same_extraction([*((f"training set {i}", t) for i, t in enumerate(train, 1)), ("the test set", test)])
    return check_no_overlap(train, test, allow_overlap)
