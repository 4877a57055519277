"""What a feature store's ``store.json`` must hold, and the hashes that make it verifiable.

``store.json`` is data a user (or a disk) can damage. Every reader goes through
:func:`validate_meta` first, so a wrong type, a missing key, a short list or a
label outside the class list is one :class:`StoreError` line naming the field,
never a ``KeyError`` deep inside a loader.

Verification (format version 2) ties the metadata to itself and to the shards:

* ``key`` is the SHA-256 of ``settings`` (the cache key);
* ``settings.manifest`` and ``manifest.content_hash`` are the manifest hash,
  which is recomputed from ``class_names`` and the row table (``video_ids`` are
  the root-relative paths, so the table holds the whole manifest);
* ``rows_sha256`` holds one SHA-256 per row column, so a mismatch names the column;
* ``shards`` holds the SHA-256 of every shard file (see :mod:`.store`).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..errors import StoreError
from ..fileio import sha256_json

#: columns of the row table, in the order the manifest hash uses them
ROW_COLUMNS = ("video_ids", "labels", "domains", "views", "splits")
STATUSES = ("partial", "complete")


def rows_content_hash(class_names: list[str], rows: dict[str, list[Any]]) -> str:
    """The manifest hash (:meth:`gesturebench.types.Manifest.content_hash`) recomputed from a row table."""
    payload = {
        "classes": list(class_names),
        "records": [list(r) for r in zip(*(rows[c] for c in ROW_COLUMNS))],
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()


def rows_checksums(rows: dict[str, list[Any]]) -> dict[str, str]:
    """One SHA-256 per row column (recorded as ``rows_sha256``)."""
    return {c: sha256_json(rows[c]) for c in ROW_COLUMNS}


def _fail(where: str, what: str) -> StoreError:
    return StoreError(
        f"feature store {where}: store.json is malformed: {what}; "
        "rebuild it with the same `gesturebench extract` command and --overwrite"
    )


def _int(meta: dict[str, Any], name: str, where: str, low: int = 0) -> int:
    v = meta.get(name)
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise _fail(where, f"{name} must be an integer >= {low}; got {v!r}")
    return v


def _str_list(value: Any, name: str, n: int | None, where: str) -> list[str]:
    if not isinstance(value, list) or not set(map(type, value)) <= {str}:  # map(type): C speed on 44.5K rows
        raise _fail(where, f"{name} must be a list of strings; got {type(value).__name__}")
    if n is not None and len(value) != n:
        raise _fail(where, f"{name} has {len(value)} entries for {n} videos")
    return value


def validate_meta(meta: Any, where: str, version: int) -> dict[str, Any]:
    """Check the shape and types of a parsed ``store.json``; returns it, or raises one StoreError line."""
    if not isinstance(meta, dict):
        raise _fail(where, f"expected a JSON object; got {type(meta).__name__}")
    if meta.get("status") not in STATUSES:
        raise _fail(where, f"status must be one of {', '.join(STATUSES)}; got {meta.get('status')!r}")
    if not isinstance(meta.get("key"), str) or not meta["key"]:
        raise _fail(where, f"key must be a non-empty string; got {meta.get('key')!r}")
    settings = meta.get("settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("encoder"), dict):
        raise _fail(where, "settings must be an object with an encoder object")
    n = _int(meta, "num_videos", where, 1)
    _int(meta, "feature_dim", where, 1)
    size = _int(meta, "shard_size", where, 1)
    shards = _int(meta, "num_shards", where, 1)
    if shards != (n + size - 1) // size:
        raise _fail(where, f"num_shards {shards} does not fit {n} videos in shards of {size}")
    classes = _str_list(meta.get("class_names"), "class_names", None, where)
    if not classes:
        raise _fail(where, "class_names is empty")
    manifest = meta.get("manifest")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("content_hash"), str):
        raise _fail(where, "manifest must be an object with a content_hash string")
    rows = meta.get("rows")
    if not isinstance(rows, dict):
        raise _fail(where, f"rows must be an object; got {type(rows).__name__}")
    for col in ROW_COLUMNS:
        if col == "labels":
            labels = rows.get(col)
            if not isinstance(labels, list) or not set(map(type, labels)) <= {int}:
                raise _fail(where, "rows.labels must be a list of integers")
            if len(labels) != n:
                raise _fail(where, f"rows.labels has {len(labels)} entries for {n} videos")
            if labels and not 0 <= min(labels) <= max(labels) < len(classes):
                wrong = next(x for x in labels if not 0 <= x < len(classes))
                raise _fail(where, f"rows.labels holds {wrong}, outside 0-{len(classes) - 1}")
        else:
            _str_list(rows.get(col), f"rows.{col}", n, where)
    bad = meta.get("bad", [])
    if not isinstance(bad, list) or not all(
        isinstance(b, dict) and type(b.get("row")) is int and 0 <= b["row"] < n
        and isinstance(b.get("video_id"), str) and isinstance(b.get("reason"), str)
        for b in bad
    ):
        raise _fail(where, "bad must be a list of {row, video_id, reason} with rows inside the table")
    if version >= 2:
        sums = meta.get("rows_sha256")
        if not isinstance(sums, dict) or not all(isinstance(sums.get(c), str) for c in ROW_COLUMNS):
            raise _fail(where, "rows_sha256 must hold one checksum per row column")
        if meta["status"] == "complete":
            listed = meta.get("shards")
            if not isinstance(listed, list) or len(listed) != shards or not all(
                isinstance(s, dict) and isinstance(s.get("file"), str) and isinstance(s.get("sha256"), str)
                for s in listed
            ):
                raise _fail(where, f"shards must list {shards} {{file, sha256}} entries")
    return meta


def verify_rows(meta: dict[str, Any], where: str) -> None:
    """The row table, manifest hash and cache key must agree with each other (format version 2)."""
    from .store import cache_key

    rows = meta["rows"]
    recorded = meta["rows_sha256"]
    changed = [c for c, h in rows_checksums(rows).items() if recorded.get(c) != h]
    if changed:
        raise StoreError(
            f"feature store {where}: rows.{', rows.'.join(changed)} in store.json differ from the checksums "
            "recorded at extraction (store.json was edited or damaged); rebuild it with --overwrite"
        )
    content = rows_content_hash(meta["class_names"], rows)
    hashes = {meta["manifest"]["content_hash"], meta["settings"].get("manifest")}
    if hashes != {content}:
        raise StoreError(
            f"feature store {where}: the row table and class list in store.json do not match the manifest hash "
            "recorded at extraction (store.json was edited or damaged); rebuild it with --overwrite"
        )
    if cache_key(meta["settings"]) != meta["key"]:
        raise StoreError(
            f"feature store {where}: settings in store.json do not match its cache key "
            "(store.json was edited or damaged); rebuild it with --overwrite"
        )
