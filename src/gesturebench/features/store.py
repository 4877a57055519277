"""On-disk feature store: a folder of safetensors shards plus one JSON metadata file.

Layout of a store folder::

    store.json                 metadata (written atomically; "status": "partial" | "complete")
    shard-00000.safetensors    rows [0, shard_size) of the manifest: "features" f32 (n, D),
    shard-00001.safetensors    "rows" int64 (n,), and the shard's bad videos in its header
    ...
    .lock                      held (non-blocking) by the one run allowed to write

A shard is the unit of resumption: it is written once, atomically, when every
video in its row range is either encoded or recorded as bad. ``store.json`` is
marked ``complete`` only after every shard exists, and then lists every shard's
SHA-256; a reader checks those and the row table's hashes (:mod:`.meta`), so a
damaged or edited store is refused, never read as different features. See
docs/features.md.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StoreError
from ..fileio import atomic_write_bytes, atomic_write_json, sha256_json
from .meta import validate_meta, verify_rows

if TYPE_CHECKING:
    import numpy as np

    from ..types import FeatureSet

log = logging.getLogger(__name__)

FORMAT_NAME = "gesturebench-features"
#: 2: shard SHA-256s and row-table checksums in store.json; the cache key leaves out the package version
FORMAT_VERSION = 2
#: older versions that ``gesturebench extract`` upgrades in place (no re-encoding)
MIGRATABLE_VERSIONS = (1,)
META_FILE = "store.json"
LOCK_FILE = ".lock"
SHARD_PREFIX = "shard-"
SHARD_SUFFIX = ".safetensors"


def cache_key(settings: dict[str, Any]) -> str:
    """The store's cache key: SHA-256 of the canonical JSON of every feature-determining setting."""
    return sha256_json(settings)


def diff_settings(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted names of the settings that differ between two nested dicts (for error messages)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for k in sorted(set(old) | set(new), key=str):
            name = f"{prefix}.{k}" if prefix else str(k)
            if k not in old or k not in new:
                out.append(name)
            else:
                out.extend(diff_settings(old[k], new[k], name))
        return out
    # Compare through JSON so tuples/lists and int/float renderings agree with the key.
    same = json.dumps(old, sort_keys=True, default=str) == json.dumps(new, sort_keys=True, default=str)
    return [] if same else [prefix or "<root>"]


class FeatureStore:
    """A feature store folder. Reading needs no lock; writing goes through :meth:`lock`."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._sha256: dict[int, str] = {}  # shard index -> SHA-256 of the bytes written or last read

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r})"

    # ---- paths -------------------------------------------------------------------------
    @property
    def meta_path(self) -> Path:
        return self.path / META_FILE

    @property
    def lock_path(self) -> Path:
        return self.path / LOCK_FILE

    def shard_path(self, index: int) -> Path:
        return self.path / f"{SHARD_PREFIX}{index:05d}{SHARD_SUFFIX}"

    def shard_files(self) -> list[Path]:
        if not self.path.is_dir():
            return []
        return sorted(p for p in self.path.glob(f"{SHARD_PREFIX}*{SHARD_SUFFIX}"))

    # ---- state ---------------------------------------------------------------------------
    def exists(self) -> bool:
        return self.meta_path.exists() or self.meta_path.is_symlink()

    def read_meta(self, *, legacy: bool = False) -> dict[str, Any]:
        """The parsed, validated ``store.json``; :class:`StoreError` (one line) if missing or malformed.

        ``legacy=True`` also accepts the older formats that extract can migrate.
        """
        if self.meta_path.is_dir():
            raise StoreError(f"feature store {self.path}: {self.meta_path} is a directory, not a metadata file")
        if not self.meta_path.is_file():
            what = "does not exist" if not self.path.exists() else f"has no {META_FILE}"
            if self.path.exists() and not self.path.is_dir():
                what = "is a file, not a folder"
            raise StoreError(f"{self.path} is not a feature store: it {what} (create one with `gesturebench extract`)")
        try:
            meta = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"feature store {self.path}: cannot read {META_FILE}: {exc}") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
            raise StoreError(f"feature store {self.path}: {META_FILE} is not a {FORMAT_NAME} file")
        version = meta.get("format_version")
        if version != FORMAT_VERSION and not (legacy and version in MIGRATABLE_VERSIONS):
            how = (
                "rerun the `gesturebench extract` command that made it to upgrade it in place (nothing is re-encoded)"
                if version in MIGRATABLE_VERSIONS else "extract it again with --overwrite"
            )
            raise StoreError(
                f"feature store {self.path}: format version {version!r} is not supported "
                f"(this gesturebench reads version {FORMAT_VERSION}); {how}"
            )
        return validate_meta(meta, str(self.path), int(version))

    def is_complete(self) -> bool:
        try:
            return self.read_meta().get("status") == "complete"
        except StoreError:
            return False

    def write_meta(self, meta: dict[str, Any]) -> None:
        atomic_write_json(self.meta_path, meta)

    def foreign_files(self) -> list[str]:
        """Names in the folder that a store never writes (we refuse to delete or mix with them)."""
        if not self.path.is_dir():
            return []
        ours = {META_FILE, LOCK_FILE}
        return sorted(
            p.name
            for p in self.path.iterdir()
            if p.name not in ours
            and not p.name.startswith(".tmp-")
            and not (p.name.startswith(SHARD_PREFIX) and p.name.endswith(SHARD_SUFFIX))
        )

    def clear(self) -> None:
        """Delete metadata, shards and temporary leftovers (never foreign files, never the lock)."""
        if self.meta_path.is_dir() and not self.meta_path.is_symlink():
            raise StoreError(
                f"feature store {self.path}: {self.meta_path} is a directory; remove it yourself, it is not ours to delete"
            )
        self._sha256.clear()
        self.meta_path.unlink(missing_ok=True)
        for p in self.shard_files():
            p.unlink(missing_ok=True)
        self.remove_temporaries()

    def remove_temporaries(self) -> None:
        """Remove ``.tmp-*`` files left behind by a run that was killed mid-write."""
        if self.path.is_dir():
            for p in self.path.glob(".tmp-*"):
                p.unlink(missing_ok=True)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the store's write lock, or refuse at once if another run holds it."""
        from filelock import FileLock, Timeout

        self.path.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.lock_path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise StoreError(
                f"feature store {self.path} is being written by another run (lock {self.lock_path} is held); "
                "wait for that run to finish or choose another --out"
            ) from None
        try:
            yield
        finally:
            lock.release()

    # ---- shards --------------------------------------------------------------------------
    def write_shard(
        self, index: int, key: str, start: int, stop: int,
        features: np.ndarray, rows: np.ndarray, bad: list[tuple[int, str]],
    ) -> Path:
        """Write shard ``index`` atomically: it appears complete or not at all.

        The one writer of shard files (every engine goes through it); it remembers the
        SHA-256 of what it wrote, which :meth:`checksums` lists in the finished metadata.
        """
        import hashlib

        import numpy as np
        from safetensors.numpy import save

        features = np.ascontiguousarray(features, dtype=np.float32)
        rows = np.ascontiguousarray(rows, dtype=np.int64)
        header = {
            "key": key, "index": str(index), "start": str(start), "stop": str(stop),
            "bad": json.dumps([[int(r), str(reason)] for r, reason in bad]),
        }
        data = save({"features": features, "rows": rows}, metadata=header)
        final = self.shard_path(index)
        atomic_write_bytes(final, data)
        self._sha256[index] = hashlib.sha256(data).hexdigest()
        return final

    def _read_shard_bytes(self, index: int, expect_sha256: str | None = None) -> bytes:
        import hashlib

        path = self.shard_path(index)
        if not path.is_file():
            raise StoreError(f"feature store {self.path}: shard {path.name} is missing")
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise StoreError(f"feature store {self.path}: shard {path.name} is unreadable: {exc.strerror}") from exc
        sha = hashlib.sha256(data).hexdigest()
        if expect_sha256 is not None and sha != expect_sha256:
            raise StoreError(
                f"feature store {self.path}: shard {path.name} fails its SHA-256 check (damaged or edited: "
                f"{len(data)} bytes, sha256 {sha[:12]}, store.json records {expect_sha256[:12]}); "
                "rerun the same `gesturebench extract` command to repair it"
            )
        self._sha256[index] = sha
        return data

    def read_shard(
        self, index: int, expect_sha256: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str]], dict[str, str]]:
        """(features, rows, bad [(row, reason)], header) of one shard, its bytes read once.

        With ``expect_sha256`` the bytes must have that SHA-256 first.
        """
        from safetensors.numpy import load

        data = self._read_shard_bytes(index, expect_sha256)
        name = self.shard_path(index).name
        try:
            n = int.from_bytes(data[:8], "little")
            if n <= 0 or 8 + n > len(data):
                raise ValueError(f"header length {n} does not fit a {len(data)}-byte file")
            header = json.loads(data[8 : 8 + n]).get("__metadata__") or {}
            tensors = load(data)
            feats, rows = tensors["features"], tensors["rows"]
            bad = [(int(r), str(reason)) for r, reason in json.loads(header.get("bad", "[]"))]
        except Exception as exc:  # safetensors raises several unrelated types on damaged files
            raise StoreError(f"feature store {self.path}: shard {name} is unreadable: {exc}") from exc
        return feats, rows, bad, {str(k): str(v) for k, v in header.items()}

    def checksums(self, num_shards: int) -> list[dict[str, str]]:
        """``[{file, sha256}]`` of every shard (from what was written or checked; else read now)."""
        out = []
        for index in range(num_shards):
            if index not in self._sha256:
                self._read_shard_bytes(index)
            out.append({"file": self.shard_path(index).name, "sha256": self._sha256[index]})
        return out

    def shard_is_valid(self, index: int, key: str, start: int, stop: int, dim: int) -> bool:
        """True if shard ``index`` exists, belongs to ``key`` and covers rows [start, stop) exactly once."""
        import numpy as np

        if not self.shard_path(index).is_file():
            return False
        try:
            feats, rows, bad, header = self.read_shard(index)
        except StoreError as exc:
            log.warning("%s; it will be recomputed", exc)
            return False
        if header.get("key") != key or feats.ndim != 2 or rows.ndim != 1 or feats.shape[0] != rows.shape[0]:
            return False
        if rows.size and feats.shape[1] != dim:
            return False
        covered = np.sort(np.concatenate([rows, np.asarray([r for r, _ in bad], dtype=np.int64)]))
        return bool(np.array_equal(covered, np.arange(start, stop, dtype=np.int64)))

    def damaged_shards(self, meta: dict[str, Any]) -> list[int]:
        """Indices of the shards of a complete store that are missing or fail their SHA-256 check."""
        out = []
        for index, entry in enumerate(meta["shards"]):
            try:
                self._read_shard_bytes(index, entry["sha256"])
            except StoreError as exc:
                log.warning("%s", exc)
                out.append(index)
        return out

    # ---- reading -------------------------------------------------------------------------
    def load(self, *, legacy: bool = False) -> FeatureSet:
        """All extracted rows in manifest order (bad videos left out) as a FeatureSet.

        Every shard's SHA-256 and the row table's checksums are verified first; any
        mismatch is a :class:`StoreError` naming the store and what differs.
        ``legacy=True`` reads a store of an older format (no checksums: structure only).
        """
        import numpy as np

        from ..types import FeatureSet

        meta = self.read_meta(legacy=legacy)
        if meta.get("status") != "complete":
            raise StoreError(
                f"feature store {self.path} is incomplete (an extraction was interrupted); "
                "rerun the same `gesturebench extract` command to resume it"
            )
        verified = meta["format_version"] >= 2
        if verified:
            verify_rows(meta, str(self.path))
        n, dim = int(meta["num_videos"]), int(meta["feature_dim"])
        table = meta["rows"]
        features = np.zeros((n, dim), dtype=np.float32)
        seen = np.zeros(n, dtype=np.int64)
        bad_rows: set[int] = set()
        for index in range(int(meta["num_shards"])):
            expect = meta["shards"][index]["sha256"] if verified else None
            feats, rows, bad, header = self.read_shard(index, expect)
            if header.get("key") != meta["key"]:
                raise StoreError(f"feature store {self.path}: shard {index} belongs to another cache key")
            if feats.ndim != 2 or rows.ndim != 1 or feats.shape[0] != rows.shape[0]:
                raise StoreError(f"feature store {self.path}: shard {index} does not fit the metadata")
            if rows.size and (rows.min() < 0 or rows.max() >= n or feats.shape[1] != dim):
                raise StoreError(f"feature store {self.path}: shard {index} does not fit the metadata")
            features[rows] = feats
            np.add.at(seen, rows, 1)
            bad_rows.update(r for r, _ in bad)
        good = np.flatnonzero(seen)
        if seen.max(initial=0) > 1 or len(good) + len(bad_rows) != n or bad_rows & set(good.tolist()):
            raise StoreError(f"feature store {self.path} is corrupt: rows are duplicated or missing")
        recorded_bad = {int(b["row"]) for b in meta.get("bad", [])}
        if verified and recorded_bad != bad_rows:
            raise StoreError(
                f"feature store {self.path}: store.json lists {len(recorded_bad)} bad videos but the shards "
                f"record {len(bad_rows)} (store.json was edited or damaged); rebuild it with --overwrite"
            )
        idx = good.tolist()
        return FeatureSet(
            features=features[good],
            labels=np.asarray(table["labels"], dtype=np.int64)[good],
            video_ids=tuple(table["video_ids"][i] for i in idx),
            class_names=tuple(meta["class_names"]),
            domains=tuple(table["domains"][i] for i in idx),
            views=tuple(table["views"][i] for i in idx),
            key=meta["key"],
            meta=meta,
        )

    def info(self) -> dict[str, Any]:
        """A summary of what the store holds (for ``gesturebench features info``)."""
        meta = self.read_meta(legacy=True)
        table = meta.get("rows", {})
        bad = meta.get("bad", [])
        bad_rows = {int(b["row"]) for b in bad}
        kept = [i for i in range(len(table.get("video_ids", []))) if i not in bad_rows]
        count = lambda col: dict(sorted(Counter(table[col][i] for i in kept).items()))  # noqa: E731
        labels = Counter(table["labels"][i] for i in kept) if "labels" in table else Counter()
        classes = meta.get("class_names", [])
        enc = meta.get("settings", {}).get("encoder", {})
        return {
            "path": str(self.path),
            "status": meta.get("status"),
            "key": meta.get("key"),
            "encoder": {k: enc.get(k) for k in ("name", "version", "class", "weights_sha256", "feature_dim")},
            "spec": enc.get("spec"),
            "sampler": meta.get("settings", {}).get("sampler"),
            "precision": meta.get("settings", {}).get("precision"),
            "dtype": meta.get("dtype"),
            "feature_dim": meta.get("feature_dim"),
            "num_videos": meta.get("num_videos"),
            "num_extracted": len(kept) if meta.get("status") == "complete" else None,
            "num_bad": len(bad),
            "bad": bad,
            "classes": {name: labels.get(i, 0) for i, name in enumerate(classes)},
            "domains": count("domains") if "domains" in table else {},
            "views": count("views") if "views" in table else {},
            "manifest": meta.get("manifest"),
            "num_shards": meta.get("num_shards"),
            "shard_size": meta.get("shard_size"),
            "package_version": (meta.get("created_by") or {}).get("package_version")
            or meta.get("settings", {}).get("package_version"),
            "format_version": meta.get("format_version"),
            "created": meta.get("created"),
            "report": meta.get("report"),
        }
