"""Small validated value types shared by every stage.

``VideoRecord`` and ``Manifest`` describe *what* to read; they know nothing of
decoding or of any file format (readers live in :mod:`gesturebench.data`).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from .errors import ConfigError

#: ``synthetic`` = rendered training data (RoCoG-v2 Unity videos or our generator's
#: default style); ``real`` = camera footage; ``target`` = our generator's
#: ``--style target`` videos, a *synthetic stand-in* for a real target domain in
#: offline demos and tests. ``target`` is never reported as real.
DOMAINS = ("synthetic", "real", "target")
VIEWS = ("ground", "air")
SPLITS = ("train", "val", "test", "all")

#: Path prefixes of the RoCoG-v2 layout, and ours for the target style.
DOMAIN_DIRS = {"syn": "synthetic", "real": "real", "tgt": "target"}
DIR_OF_DOMAIN = {v: k for k, v in DOMAIN_DIRS.items()}

#: RoCoG-v2 class_dict.json, index -> class name.
ROCOG_CLASSES = ("Advance", "Attention", "Rally", "MoveForward", "Halt", "FollowMe", "MoveInReverse")


@dataclass(frozen=True)
class VideoRecord:
    """One labelled video. ``path`` is relative to the manifest root (POSIX)."""

    path: str
    label: int
    class_name: str
    domain: str = "synthetic"
    view: str = "ground"
    split: str = "all"

    def __post_init__(self) -> None:
        if self.domain not in DOMAINS:
            raise ConfigError(f"domain must be one of {', '.join(DOMAINS)}; got {self.domain!r}")
        if self.view not in VIEWS:
            raise ConfigError(f"view must be one of {', '.join(VIEWS)}; got {self.view!r}")
        if isinstance(self.label, bool) or not isinstance(self.label, int) or self.label < 0:
            raise ConfigError(f"label must be an integer >= 0; got {self.label!r}")

    @property
    def video_id(self) -> str:
        """Stable identifier: the root-relative path."""
        return self.path


@dataclass(frozen=True)
class Manifest:
    """A validated list of videos under one root, with the class list."""

    root: Path
    class_names: tuple[str, ...]
    records: tuple[VideoRecord, ...]
    sources: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))
        object.__setattr__(self, "class_names", tuple(self.class_names))
        object.__setattr__(self, "records", tuple(self.records))
        object.__setattr__(self, "sources", tuple(self.sources))

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        return (
            f"Manifest(root={str(self.root)!r}, classes={len(self.class_names)}, "
            f"videos={len(self.records)})"
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def abspath(self, record: VideoRecord) -> Path:
        return self.root / record.path

    def labels(self) -> list[int]:
        return [r.label for r in self.records]

    def counts(self) -> Counter[tuple[str, str, str]]:
        """Counts per (class name, domain, view)."""
        return Counter((r.class_name, r.domain, r.view) for r in self.records)

    def content_hash(self) -> str:
        """SHA-256 over class list and records (not file bytes): the manifest's identity."""
        payload = {
            "classes": list(self.class_names),
            "records": [[r.path, r.label, r.domain, r.view, r.split] for r in self.records],
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()

    def subset(self, records: list[VideoRecord] | tuple[VideoRecord, ...]) -> Manifest:
        return Manifest(self.root, self.class_names, tuple(records), self.sources)


@dataclass(frozen=True, eq=False)
class FeatureSet:
    """Features of one set of videos, as loaded from a feature store.

    ``features`` is float32 (N, D); ``labels`` int64 (N,). Row i describes
    ``video_ids[i]``. ``key`` is the store's cache key; ``meta`` its metadata.
    """

    features: "np.ndarray"
    labels: "np.ndarray"
    video_ids: tuple[str, ...]
    class_names: tuple[str, ...]
    domains: tuple[str, ...]
    views: tuple[str, ...]
    key: str = ""
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        import numpy as np

        feats = np.asarray(self.features)
        labels = np.asarray(self.labels)
        if feats.ndim != 2:
            raise ConfigError(f"features must be 2-D (N, D); got shape {feats.shape}")
        n = feats.shape[0]
        for name, seq in (("labels", labels), ("video_ids", self.video_ids), ("domains", self.domains), ("views", self.views)):
            if len(seq) != n:
                raise ConfigError(f"FeatureSet.{name} has {len(seq)} entries for {n} feature rows")
        object.__setattr__(self, "features", feats)
        object.__setattr__(self, "labels", labels.astype("int64", copy=False))
        for name in ("video_ids", "class_names", "domains", "views"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def __len__(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def __repr__(self) -> str:
        return f"FeatureSet(n={len(self)}, dim={self.dim}, classes={len(self.class_names)}, key={self.key[:12]!r})"
