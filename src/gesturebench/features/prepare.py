"""What an existing store folder gives a new extraction: a cache hit, a resume, a repair,
an upgrade of an old format, a store that grows, or a refusal.

Rules (docs/features.md, "Reruns"):

* ``--overwrite`` always rebuilds from nothing (it never trusts what is there);
* same cache key, complete: every shard's SHA-256 and the row table are checked; damaged
  or missing shards are recomputed (a *repair*), otherwise it is a cache hit;
* same key, partial: resume from the shards that are valid;
* an older format whose settings are the same apart from the package version: *migrate*,
  rewriting the shards with the new key and checksums from the stored features;
* only videos added to the manifest (every old video still listed with the same label,
  domain, view and split, and its file unchanged): *grow*, keeping the old features and
  extracting only the new videos;
* anything else that differs: refuse, naming the settings that changed.

Reused features come back as ``known``: manifest row -> feature vector (or the reason the
video was bad), which the engine writes into the new shards without decoding.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from .store import FORMAT_VERSION, FeatureStore, diff_settings

if TYPE_CHECKING:
    from ..types import Manifest

log = logging.getLogger(__name__)

#: settings that name where the features came from, not what they are (a store may differ in these and grow)
_MANIFEST_SETTINGS = ("manifest", "files")
#: settings of older formats that no longer belong to the cache key
_LEGACY_SETTINGS = ("package_version", "format_version")


@dataclass
class StorePlan:
    """``meta`` to continue from (already written); ``known`` rows reused from an older store;
    ``action``: fresh, cached, resume, repair, migrate or grow; ``note``: one line saying so."""

    meta: dict[str, Any]
    action: str
    note: str = ""
    known: dict[int, Any] = field(default_factory=dict)


def _describe_changes(changed: list[str]) -> str:
    if "manifest" in changed:  # a different video list changes the file fingerprint too; say it once
        changed = [c for c in changed if c != "files"]
    shown = [f"{c} (video sizes or modification times)" if c == "files" else c for c in changed[:6]]
    return ", ".join(shown) + (f" and {len(changed) - 6} more" if len(changed) > 6 else "")


def _refuse(store: FeatureStore, changed: list[str], why: str = "") -> StoreError:
    return StoreError(
        f"feature store {store.path} holds features made with other settings "
        f"({_describe_changes(changed)} changed{why}); rerun with --overwrite to replace them, "
        "or choose another --out"
    )


def _old_records(meta: dict[str, Any]) -> list[tuple[Any, ...]]:
    rows = meta["rows"]
    return list(zip(rows["video_ids"], rows["labels"], rows["domains"], rows["views"], rows["splits"]))


def _growth_problem(old: dict[str, Any], manifest: Manifest, fingerprint: Callable[[Manifest], str]) -> str:
    """'' when ``manifest`` only adds videos to the old store's; else why not (for the refusal)."""
    if list(old["class_names"]) != list(manifest.class_names):
        return "the class list differs"
    new = {(r.path, r.label, r.domain, r.view, r.split): i for i, r in enumerate(manifest.records)}
    old_recs = _old_records(old)
    gone = [rec for rec in old_recs if rec not in new]
    if gone:
        return f"{len(gone)} stored video(s) removed or relabelled, e.g. {gone[0][0]}; a store only grows by additions"
    by_path = {r.path: r for r in manifest.records}
    subset = manifest.subset([by_path[rec[0]] for rec in old_recs])
    if fingerprint(subset) != old["settings"].get("files"):
        return "some stored videos' files changed (size or modification time)"
    return ""


def _known_rows(
    store: FeatureStore, manifest: Manifest, legacy: bool
) -> dict[int, Any]:
    """Row of ``manifest`` -> stored feature (or bad reason) for every video the store holds."""
    fs = store.load(legacy=legacy)
    row_of = {r.path: i for i, r in enumerate(manifest.records)}
    known: dict[int, Any] = {row_of[v]: fs.features[i] for i, v in enumerate(fs.video_ids)}
    for b in fs.meta.get("bad", []):
        known[row_of[b["video_id"]]] = str(b["reason"])
    return known


def prepare_store(
    store: FeatureStore,
    key: str,
    settings: dict[str, Any],
    manifest: Manifest,
    overwrite: bool,
    make_meta: Callable[[], dict[str, Any]],
    fingerprint: Callable[[Manifest], str],
) -> StorePlan:
    """Decide (and set up on disk) how an extraction continues from ``store``; see the module docs."""

    def fresh(action: str = "fresh", note: str = "", known: dict[int, Any] | None = None) -> StorePlan:
        store.clear()
        meta = make_meta()
        store.write_meta(meta)
        return StorePlan(meta, action, note, known or {})

    if not store.exists():
        foreign = store.foreign_files()
        if foreign:
            raise StoreError(
                f"{store.path} is not empty and is not a feature store (it holds {', '.join(foreign[:3])}); "
                "choose an empty or new folder for --out"
            )
        return fresh()  # shards without metadata cannot be trusted
    if overwrite:
        return fresh(note="--overwrite: rebuilt from nothing")
    try:
        old = store.read_meta(legacy=True)
    except StoreError as exc:
        raise StoreError(f"{exc} (or rerun with --overwrite to rebuild it)") from None

    version = old["format_version"]
    if version != FORMAT_VERSION:
        strip = lambda d: {k: v for k, v in d.items() if k not in _LEGACY_SETTINGS}  # noqa: E731
        changed = diff_settings(strip(old["settings"]), strip(settings))
        if changed or old["status"] != "complete":
            raise _refuse(store, changed or ["format_version"], "" if changed else "; it was never completed")
        known = _known_rows(store, manifest, legacy=True)
        return fresh("migrate", f"upgraded store format {version} -> {FORMAT_VERSION} in place (nothing re-encoded)",
                     known)

    if old["key"] == key:
        if old["status"] != "complete":
            return StorePlan(old, "resume")
        from .meta import verify_rows

        verify_rows(old, str(store.path))
        damaged = store.damaged_shards(old)
        if not damaged:
            return StorePlan(old, "cached")
        for index in damaged:
            store.shard_path(index).unlink(missing_ok=True)
        old["status"] = "partial"
        old.pop("shards", None)
        store.write_meta(old)
        names = ", ".join(store.shard_path(i).name for i in damaged[:3]) + (" ..." if len(damaged) > 3 else "")
        return StorePlan(old, "repair", f"repairing {len(damaged)} damaged or missing shard(s): {names}")

    changed = diff_settings(old["settings"], settings)
    if set(changed) <= set(_MANIFEST_SETTINGS):
        if old["status"] != "complete":
            raise _refuse(store, changed, "; the earlier extraction was never completed")
        problem = _growth_problem(old, manifest, fingerprint)
        if problem:
            raise _refuse(store, changed, f": {problem}" if "manifest" in changed else "")
        known = _known_rows(store, manifest, legacy=False)
        added = len(manifest) - len(known)
        return fresh("grow", f"store grew by {added} new video(s); {len(known)} kept from the earlier run", known)
    raise _refuse(store, changed)
