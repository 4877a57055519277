"""A recogniser model: the k-NN index of training features plus everything needed to rebuild
its encoder, saved as one folder of JSON + safetensors (no pickle).

Layout of a model folder::

    recogniser.json      encoder (name, options, weights path + SHA-256, identity), sampler,
                         preprocessing, classes, k-NN settings, the "unknown" rule and its
                         thresholds, where the training features came from, one entry per
                         training video; the SHA-256 of index.safetensors
    index.safetensors    "features" f32 (N, D), "labels" i64 (N,), "nearest" f64 (N,): each
                         training video's leave-one-out distance to its class (see below)

The "unknown" rule (documented in docs/recogniser.md). For every training video i of class
c, ``nearest[i]`` is the L2 distance to the nearest *other* training video of class c
(leave-one-out). The threshold of class c is the ``quantile`` (default 0.95, numpy's linear
interpolation) of ``nearest`` over the class's videos; classes with fewer than 2 videos take
the quantile over all videos instead. A query that the k-NN vote gives class c is answered
"unknown" when its distance to the nearest training video of class c is above c's threshold:
it lies farther from the class than (1 - quantile) of the class's own videos lie from each
other. ``quantile=None`` switches the rule off.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, EvaluationError, RecogniserError, check_positive_int

if TYPE_CHECKING:
    from ..types import FeatureSet

log = logging.getLogger(__name__)

FORMAT_NAME = "gesturebench-recogniser"
FORMAT_VERSION = 1
MODEL_FILE = "recogniser.json"
INDEX_FILE = "index.safetensors"
DEFAULT_QUANTILE = 0.95
VOTE_RULE = "majority; ties -> class of the nearest neighbour among tied classes"
UNKNOWN_LABEL = "unknown"

@dataclass(frozen=True)
class RecogniserModel:
    """A fitted recogniser (see module docstring). ``meta`` is the parsed recogniser.json."""

    features: np.ndarray  # float32 (N, D)
    labels: np.ndarray  # int64 (N,)
    nearest: np.ndarray  # float64 (N,), leave-one-out same-class distances
    meta: dict[str, Any] = field(repr=False)

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.meta["class_names"])

    @property
    def k(self) -> int:
        return int(self.meta["knn"]["k"])

    @property
    def video_ids(self) -> list[str]:
        return [v["video_id"] for v in self.meta["videos"]]

    @property
    def thresholds(self) -> list[float | None] | None:
        """Per class index, or None when the unknown rule is off."""
        unknown = self.meta["unknown"]
        return None if unknown.get("quantile") is None else list(unknown["thresholds"])

    def __len__(self) -> int:
        return int(self.features.shape[0])


# --------------------------------------------------------------------------- checks


def comparable_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """A store's extraction settings without those that only say which videos were read."""
    from ..evaluators.checks import SOURCE_SETTINGS

    return {k: v for k, v in settings.items() if k not in SOURCE_SETTINGS}


def check_compatible(stores: list[tuple[str, FeatureSet]]) -> None:
    """Refuse to merge feature sets made with different encoders or extraction settings
    (:func:`gesturebench.evaluators.checks.check_same_extraction`), with different class
    lists, or holding the same video twice (same file or identical features)."""
    from ..evaluators.checks import check_same_extraction, find_overlap

    if not stores:
        raise ConfigError("fit needs at least one --train feature store")
    ref_name, ref = stores[0]
    if not isinstance(ref.meta.get("settings"), dict):
        raise RecogniserError(f"{ref_name} has no extraction settings; is it a gesturebench feature store?")
    for name, fs in stores:
        if fs.class_names != ref.class_names:
            raise RecogniserError(
                f"--train {name} has classes {list(fs.class_names)} but {ref_name} has {list(ref.class_names)}"
            )
    try:
        check_same_extraction([(f"--train {name}", fs) for name, fs in stores])
    except EvaluationError as exc:
        raise RecogniserError(f"{exc}; one recogniser holds features of one encoder and one extraction setting") from None
    for i, (name, fs) in enumerate(stores[1:], start=1):
        for other_name, other in stores[:i]:
            found = find_overlap([other], fs)
            if found["rows"]:
                raise RecogniserError(
                    f"--train {other_name} and --train {name} share {len(found['rows'])} video(s) "
                    f"(e.g. {found['example']}); give each video once"
                )


# --------------------------------------------------------------------------- calibration


def loo_same_class_distances(features: np.ndarray, labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Per training row: L2 distance to the nearest *other* row of its class (inf if alone).

    Exact, via the project's k-NN (:func:`gesturebench.evaluators.knn.knn_neighbors`) with k=2
    inside each class: the neighbour that is not the row itself (an exact duplicate at
    distance 0 may come first).
    """
    from ..evaluators.knn import knn_neighbors

    out = np.full(len(labels), np.inf, dtype=np.float64)
    for c in range(num_classes):
        rows = np.flatnonzero(labels == c)
        if len(rows) < 2:
            continue
        x = features[rows]
        idx, dist = knn_neighbors(x, x, k=2, metric="l2", device="cpu")
        not_self = idx != np.arange(len(rows))[:, None]
        first = not_self.argmax(1)  # at least one of the two is another row
        out[rows] = dist[np.arange(len(rows)), first]
    return out


def class_thresholds(nearest: np.ndarray, labels: np.ndarray, num_classes: int, quantile: float) -> list[float | None]:
    """Per class: the ``quantile`` of its rows' leave-one-out distances (see module docstring).

    Classes with fewer than 2 training videos use the quantile over all finite distances;
    classes with no training video get None (the vote never answers them).
    """
    finite = nearest[np.isfinite(nearest)]
    overall = float(np.quantile(finite, quantile)) if finite.size else None
    out: list[float | None] = []
    for c in range(num_classes):
        d = nearest[labels == c]
        d = d[np.isfinite(d)]
        if (labels == c).sum() == 0:
            out.append(None)
        elif d.size == 0:
            out.append(overall)
        else:
            out.append(float(np.quantile(d, quantile)))
    return out


def check_quantile(quantile: float | None) -> float | None:
    if quantile is None:
        return None
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0.0 < float(quantile) <= 1.0:
        raise ConfigError(f"--unknown-quantile must be a number in (0, 1]; got {quantile!r}")
    return float(quantile)


# --------------------------------------------------------------------------- fit


def fit_model(
    stores: list[tuple[str, FeatureSet]],
    encoder: dict[str, Any],
    *,
    k: int = 3,
    quantile: float | None = DEFAULT_QUANTILE,
) -> RecogniserModel:
    """Build a recogniser from loaded feature stores ``[(path, FeatureSet), ...]``.

    ``encoder`` is the recipe that rebuilds the stores' encoder (name, options, weights,
    weights_sha256; see :func:`gesturebench.recognise.encoder.encoder_recipe`).
    """
    from .. import __version__

    check_positive_int("k", k)
    quantile = check_quantile(quantile)
    check_compatible(stores)
    ref = stores[0][1]
    settings = ref.meta["settings"]
    features = np.concatenate([fs.features for _, fs in stores], 0).astype(np.float32, copy=False)
    labels = np.concatenate([fs.labels for _, fs in stores], 0).astype(np.int64, copy=False)
    n, c = len(labels), len(ref.class_names)
    if k > n:
        raise RecogniserError(f"k={k} needs at least {k} training videos; the --train stores hold {n}")
    if not np.isfinite(features).all():
        raise RecogniserError("the training features contain NaN or infinite values")
    nearest = loo_same_class_distances(features, labels, c)
    thresholds = class_thresholds(nearest, labels, c, quantile) if quantile is not None else None
    per_class = Counter(int(v) for v in labels)
    videos = [
        {"video_id": vid, "label": int(lab), "domain": dom, "view": view}
        for _, fs in stores
        for vid, lab, dom, view in zip(fs.video_ids, fs.labels, fs.domains, fs.views)
    ]
    meta: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "encoder": {**encoder, "identity": settings["encoder"]},
        "sampler": settings["sampler"],
        "decoder": settings["decoder"],
        "preprocess": settings["preprocess"],
        "precision": settings.get("precision", "fp32"),
        "extraction": comparable_settings(settings),
        "class_names": list(ref.class_names),
        "knn": {"k": k, "metric": "l2", "vote": VOTE_RULE},
        "unknown": {
            "rule": "unknown when the distance to the nearest training video of the voted class exceeds "
            "that class's threshold: the quantile of its videos' leave-one-out same-class distances",
            "quantile": quantile,
            "thresholds": thresholds,
        },
        "training": {
            "stores": [{"path": str(Path(p).resolve()), "key": fs.key, "videos": len(fs)} for p, fs in stores],
            "videos": n,
            "per_class": {name: per_class.get(i, 0) for i, name in enumerate(ref.class_names)},
            "per_domain": dict(sorted(Counter(v["domain"] for v in videos).items())),
        },
        "videos": videos,
        "package_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    return RecogniserModel(features=features, labels=labels, nearest=nearest, meta=meta)


# --------------------------------------------------------------------------- save / load


def save_model(model: RecogniserModel, out: str | os.PathLike[str], overwrite: bool = False) -> Path:
    """Write the model folder atomically file by file (index first, then the JSON that names it)."""
    from safetensors.numpy import save_file

    from ..fileio import atomic_path, atomic_write_json, sha256_file

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder; a recogniser model is a folder")
    if out.is_dir() and any(out.iterdir()):
        ours = {MODEL_FILE, INDEX_FILE}
        foreign = sorted(p.name for p in out.iterdir() if p.name not in ours and not p.name.startswith(".tmp-"))
        if foreign:
            raise ConfigError(f"--out {out} holds other files ({', '.join(foreign[:3])}); choose an empty or new folder")
        if not overwrite:
            raise ConfigError(f"--out {out} already holds a recogniser; pass --overwrite to replace it")
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / INDEX_FILE) as tmp:
        save_file(
            {
                "features": np.ascontiguousarray(model.features, dtype=np.float32),
                "labels": np.ascontiguousarray(model.labels, dtype=np.int64),
                "nearest": np.ascontiguousarray(model.nearest, dtype=np.float64),
            },
            str(tmp),
            metadata={"format": FORMAT_NAME},
        )
    meta = dict(model.meta)
    meta["index"] = {
        "file": INDEX_FILE,
        "sha256": sha256_file(out / INDEX_FILE),
        "rows": len(model),
        "dim": int(model.features.shape[1]),
    }
    atomic_write_json(out / MODEL_FILE, meta)
    return out


def load_model(path: str | os.PathLike[str]) -> RecogniserModel:
    """Read and verify a model folder (format, index checksum, shapes)."""
    from safetensors.numpy import load_file

    from ..fileio import sha256_file

    path = Path(path)
    meta_path = path / MODEL_FILE
    if not meta_path.is_file():
        what = "does not exist" if not path.exists() else f"has no {MODEL_FILE}"
        raise RecogniserError(f"{path} is not a recogniser model: it {what} (make one with `gesturebench fit`)")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RecogniserError(f"recogniser {path}: cannot read {MODEL_FILE}: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise RecogniserError(f"recogniser {path}: {MODEL_FILE} is not a {FORMAT_NAME} file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise RecogniserError(
            f"recogniser {path}: format version {meta.get('format_version')!r} is not supported "
            f"(this gesturebench reads version {FORMAT_VERSION}); fit it again"
        )
    index = meta.get("index") or {}
    index_path = path / INDEX_FILE
    if not index_path.is_file():
        raise RecogniserError(f"recogniser {path}: {INDEX_FILE} is missing")
    if sha256_file(index_path) != index.get("sha256"):
        raise RecogniserError(f"recogniser {path}: {INDEX_FILE} does not match its checksum in {MODEL_FILE} (damaged?)")
    try:
        arrays = load_file(str(index_path))
    except Exception as exc:  # safetensors raises several unrelated types on damaged files
        raise RecogniserError(f"recogniser {path}: {INDEX_FILE} is unreadable: {exc}") from exc
    feats, labels, nearest = arrays.get("features"), arrays.get("labels"), arrays.get("nearest")
    n = int(index.get("rows", -1))
    if (
        feats is None or labels is None or nearest is None or feats.ndim != 2
        or feats.shape[0] != n or labels.shape != (n,) or nearest.shape != (n,) or len(meta.get("videos", [])) != n
    ):
        raise RecogniserError(f"recogniser {path}: {INDEX_FILE} does not fit {MODEL_FILE} (rows or shapes differ)")
    return RecogniserModel(features=feats, labels=labels.astype(np.int64), nearest=nearest, meta=meta)


__all__ = [
    "DEFAULT_QUANTILE", "RecogniserModel", "UNKNOWN_LABEL", "check_compatible", "class_thresholds",
    "fit_model", "load_model", "loo_same_class_distances", "save_model",
]
