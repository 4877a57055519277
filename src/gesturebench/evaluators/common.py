"""Helpers every evaluator shares: input checks, encoder identity, source labels.

They used to live in :mod:`.knn` as private names; probe, few-shot, zero-shot and
the result identities need them too, so they have a module of their own.
"""

from __future__ import annotations

from typing import Any

from ..errors import EvaluationError
from ..types import DOMAINS, FeatureSet


def _encoder_meta(fs: FeatureSet) -> Any:
    meta = fs.meta if isinstance(fs.meta, dict) else {}
    settings = meta.get("settings")
    if isinstance(settings, dict) and settings.get("encoder"):  # feature store layout
        return settings["encoder"]
    return meta.get("encoder") or meta.get("encoder_name")


def encoder_name_of(fs: FeatureSet) -> str:
    """The encoder named in a feature set's metadata, or ``"unknown"``."""
    enc = _encoder_meta(fs)
    if isinstance(enc, dict):
        enc = enc.get("name")
    return str(enc) if enc else "unknown"


def weights_sha_of(fs: FeatureSet) -> str | None:
    """SHA-256 of the weights that extracted a feature set (None: training-free or not recorded)."""
    enc = _encoder_meta(fs)
    sha = enc.get("weights_sha256") if isinstance(enc, dict) else None
    return str(sha) if sha else None


def encoder_identity(fs: FeatureSet) -> str | None:
    """``name`` (plus ``@sha256[:12]`` of the weights when recorded), or None if unknown."""
    name = encoder_name_of(fs)
    if name == "unknown":
        return None
    sha = weights_sha_of(fs)
    return f"{name}@{sha[:12]}" if sha else name


def source_label(domains: Any) -> str:
    """``synthetic``, ``real``, ``target`` or a ``+``-joined mix, in :data:`DOMAINS` order."""
    present = set(domains)
    known = [d for d in DOMAINS if d in present]
    return "+".join(known + sorted(present - set(DOMAINS))) or "none"


def check_inputs(train: list[FeatureSet], test: FeatureSet, k: int) -> None:
    """Training sets and test set fit together: classes, dimension, labels, sizes, one encoder."""
    if not train:
        raise EvaluationError("no training feature sets given")
    ref = train[0]
    for i, fs in enumerate(train[1:], start=2):
        if fs.class_names != ref.class_names:
            raise EvaluationError(
                f"training set {i} has classes {list(fs.class_names)} but training set 1 has {list(ref.class_names)}"
            )
        if fs.dim != ref.dim:
            raise EvaluationError(f"training set {i} has feature dimension {fs.dim} but training set 1 has {ref.dim}")
    if test.class_names != ref.class_names:
        raise EvaluationError(
            f"test classes {list(test.class_names)} differ from training classes {list(ref.class_names)}"
        )
    if test.dim != ref.dim:
        raise EvaluationError(f"test feature dimension {test.dim} differs from training dimension {ref.dim}")
    c = len(ref.class_names)
    if c == 0:
        raise EvaluationError("the class list is empty")
    for name, fs in [("test", test)] + [(f"training set {i}", t) for i, t in enumerate(train, start=1)]:
        bad = sorted({int(v) for v in fs.labels if v < 0 or v >= c})
        if bad:
            shown = ", ".join(map(str, bad[:10])) + (" ..." if len(bad) > 10 else "")
            raise EvaluationError(f"{name} has labels outside the class list (0..{c - 1}): {shown}")
    if len(test) == 0:
        raise EvaluationError("the test set is empty")
    n = sum(len(t) for t in train)
    if n == 0:
        raise EvaluationError("the training sets are empty")
    if k > n:
        raise EvaluationError(f"k={k} exceeds the number of training videos ({n})")
    encs = {encoder_identity(fs) for fs in [*train, test]} - {None}
    if len(encs) > 1:
        raise EvaluationError(f"features come from different encoders: {', '.join(sorted(encs))}")


__all__ = ["check_inputs", "encoder_identity", "encoder_name_of", "source_label", "weights_sha_of"]
