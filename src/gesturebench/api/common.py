"""Pieces the evaluation workflows share: loading stores, the identity of a requested
evaluation (known before it runs, so a finished one is a cache hit), and the outcome."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..tasks.base import Identity
    from ..types import FeatureSet

log = logging.getLogger(__name__)

StoreLike = "str | os.PathLike[str] | FeatureSet"


@dataclass(frozen=True)
class Outcome:
    """What an evaluation workflow produced: the result document, where it is, and whether it was cached."""

    doc: dict[str, Any]
    path: Path | None
    cached: bool
    #: the evaluator's result object (None on a cache hit: only the document exists then)
    result: Any = None


def load_set(store: Any) -> FeatureSet:
    """A loaded :class:`FeatureSet` from a store folder (or the set itself)."""
    from ..features.store import FeatureStore
    from ..types import FeatureSet

    if isinstance(store, FeatureSet):
        return store
    return FeatureStore(os.fspath(store)).load()


def request_identity(
    task: str, settings: Mapping[str, Any], test: FeatureSet, train: Sequence[FeatureSet] = (),
    extra: Mapping[str, Any] | None = None,
) -> Identity:
    """The identity the result of this evaluation will have (same code path as the written file)."""
    from ..evaluators.common import encoder_name_of, source_label, weights_sha_of
    from ..tasks import get_task

    name = encoder_name_of(test)
    if name == "unknown" and train:
        name = encoder_name_of(train[0])
    doc: dict[str, Any] = {
        "task": task,
        "encoder": name,
        "settings": {**settings, "encoder_weights_sha256": weights_sha_of(test)},
        "train": {"keys": [t.key for t in train], "source": source_label([d for t in train for d in t.domains])},
        "test": {"key": test.key, "source": source_label(test.domains)},
        **dict(extra or {}),
    }
    return get_task(task).identity(doc)


def lookup(out: Any, ident: Identity, overwrite: bool) -> Outcome | None:
    """The cached outcome of ``ident`` under ``out`` (None when absent, unwritable or ``overwrite``)."""
    from ..evaluators.results import cached_result

    if out is None or overwrite:
        return None
    hit = cached_result(out, ident)
    if hit is None:
        return None
    log.info("cache hit: %s", hit[0])
    return Outcome(doc=hit[1], path=hit[0], cached=True)


def finish(result: Any, out: Any, overwrite: bool, expected: Identity | None = None) -> Outcome:
    """Write ``result`` under ``out`` (unless None) and wrap it as an :class:`Outcome`."""
    from ..errors import ResultError
    from ..evaluators.results import result_document, result_identity, write_result

    doc = result_document(result)
    if expected is not None and result_identity(doc).full() != expected.full():
        # the request identity and the document's must agree, or caching would miss silently
        raise ResultError(f"internal: result identity differs from the request's in "
                          f"{', '.join(result_identity(doc).differences(expected))}")
    path = write_result(doc, out, overwrite=overwrite) if out is not None else None
    return Outcome(doc=doc, path=path, cached=False, result=result)
