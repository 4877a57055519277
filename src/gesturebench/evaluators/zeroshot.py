"""Zero-shot classification from text embeddings (pure functions, no encoder calls).

Callers embed the prompts with a video-text encoder's ``encode_text`` and the
videos with ``encode``; this module only compares embeddings. Each class is
represented by the mean of its L2-normalised prompt embeddings, re-normalised
(prompt ensembling, as in CLIP); a video is assigned the class with the highest
cosine similarity (ties -> lowest class index).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ConfigError, EvaluationError, describe_yaml_error
from ..types import FeatureSet
from . import metrics as M
from .knn import source_label

DEFAULT_PROMPTS = "rocog_prompts.yaml"


def load_prompts(path: str | Path | None = None) -> tuple[str, dict[str, list[str]]]:
    """``(prompt set name, {class name: [prompt, ...]})`` from YAML; default: the RoCoG-v2 set."""
    import yaml

    if path is None:
        text = resources.files(__package__).joinpath(DEFAULT_PROMPTS).read_text(encoding="utf-8")
        where = DEFAULT_PROMPTS
    else:
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise ConfigError(f"cannot read prompt file {path}: {exc.strerror}") from None
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"prompt file {path} is not UTF-8 text (byte {exc.start}: {exc.object[exc.start:exc.start + 1]!r}); "
                "expected YAML like 'classes: {Advance: [a person ...]}'"
            ) from None
        where = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: {describe_yaml_error(exc)}") from None
    classes = data.get("classes") if isinstance(data, dict) else None
    if not isinstance(classes, dict) or not classes:
        raise ConfigError(f"{where}: expected a mapping 'classes: {{name: [prompts]}}'")
    out: dict[str, list[str]] = {}
    for name, prompts in classes.items():
        if isinstance(prompts, str):
            prompts = [prompts]
        if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) and p.strip() for p in prompts):
            raise ConfigError(f"{where}: class {name!r} needs a non-empty list of prompt strings")
        out[str(name)] = [p.strip() for p in prompts]
    return str(data.get("name") or Path(where).stem), out


def flatten_prompts(prompts: Mapping[str, Sequence[str]], class_names: Sequence[str]) -> tuple[list[str], list[int]]:
    """Prompts in class order, ready for ``encode_text``, and the group size per class."""
    missing = [c for c in class_names if c not in prompts]
    if missing:
        raise ConfigError(f"no prompts for classes {missing}; prompts cover {sorted(prompts)}")
    texts = [p for c in class_names for p in prompts[c]]
    return texts, [len(prompts[c]) for c in class_names]


def _normalize(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, np.float64)
    if x.ndim != 2:
        raise EvaluationError(f"{name} must be 2-D (N, D); got shape {x.shape}")
    if not np.isfinite(x).all():
        raise EvaluationError(f"{name} contain NaN or infinite values")
    n = np.linalg.norm(x, axis=1, keepdims=True)
    if (n == 0).any():
        raise EvaluationError(f"{name} contain all-zero rows (cosine similarity undefined)")
    return x / n


def class_prototypes(text_emb: Any, group_sizes: Sequence[int] | None = None, num_classes: int | None = None) -> np.ndarray:
    """(C, D) unit prototypes from prompt embeddings.

    ``text_emb`` is either a list of C arrays (P_c, D) or one (sum P_c, D) array
    in class-major order with ``group_sizes`` (or ``num_classes`` for equal groups).
    """
    if isinstance(text_emb, (list, tuple)):
        groups = [_normalize(np.asarray(g).reshape(-1, np.shape(g)[-1]), "text embeddings") for g in text_emb]
    else:
        flat = _normalize(text_emb, "text embeddings")
        if group_sizes is None:
            if not num_classes or flat.shape[0] % num_classes:
                raise EvaluationError(
                    f"{flat.shape[0]} text embeddings cannot be split evenly into {num_classes} classes; pass group_sizes"
                )
            group_sizes = [flat.shape[0] // num_classes] * num_classes
        if sum(group_sizes) != flat.shape[0] or min(group_sizes) < 1:
            raise EvaluationError(f"group sizes {list(group_sizes)} do not cover {flat.shape[0]} text embeddings")
        bounds = np.cumsum([0, *group_sizes])
        groups = [flat[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
    if num_classes is not None and len(groups) != num_classes:
        raise EvaluationError(f"{len(groups)} prompt groups for {num_classes} classes")
    protos = np.stack([g.mean(0) for g in groups])
    return _normalize(protos, "class prototypes")


def zero_shot_scores(video_emb: Any, prototypes: np.ndarray) -> np.ndarray:
    """Cosine similarities (N, C) of videos to class prototypes."""
    v = _normalize(video_emb, "video embeddings")
    if v.shape[1] != prototypes.shape[1]:
        raise EvaluationError(f"video embedding dimension {v.shape[1]} differs from text dimension {prototypes.shape[1]}")
    return v @ prototypes.T


@dataclass(frozen=True)
class ZeroShotResult(M.ClassificationDocument):
    """One zero-shot run; :meth:`to_dict` matches the k-NN result layout where it can."""

    test_key: str
    test_source: str
    predictions: tuple[dict[str, Any], ...] = field(repr=False)
    task: str = "zeroshot"

    def train_document(self) -> dict[str, Any]:
        return {"keys": [], "source": "zero-shot", "n": 0, "n_per_domain": {}}


def zero_shot_classify(
    video_emb: Any,
    text_emb: Any,
    labels: Any,
    class_names: Sequence[str],
    *,
    group_sizes: Sequence[int] | None = None,
    video_ids: Sequence[str] | None = None,
    encoder: str = "unknown",
    prompt_set: str = "custom",
    test_key: str = "",
    test_source: str = "",
    bootstrap: int = 1000,
    seed: int = 0,
) -> ZeroShotResult:
    """Classify ``video_emb`` (N, D) against per-class prompt embeddings; measure it."""
    M.check_bootstrap(bootstrap)
    c = len(class_names)
    if c == 0:
        raise EvaluationError("the class list is empty")
    y = np.asarray(labels, np.int64)
    protos = class_prototypes(text_emb, group_sizes, c)
    scores = zero_shot_scores(video_emb, protos)
    if y.shape != (scores.shape[0],):
        raise EvaluationError(f"{y.size} labels for {scores.shape[0]} video embeddings")
    if y.size == 0:
        raise EvaluationError("no videos to classify")
    if y.min() < 0 or y.max() >= c:
        raise EvaluationError(f"labels must lie in 0..{c - 1}; got {int(y.min())}..{int(y.max())}")
    pred = scores.argmax(1)
    summary = M.classification_summary(y, pred, c, bootstrap=bootstrap, seed=seed)
    ids = list(video_ids) if video_ids is not None else [str(i) for i in range(len(y))]
    sizes = list(group_sizes) if group_sizes is not None else (
        [len(g) for g in text_emb] if isinstance(text_emb, (list, tuple)) else [np.shape(text_emb)[0] // c] * c
    )
    return ZeroShotResult(
        encoder=encoder,
        settings={
            "similarity": "cosine",
            "ensembling": "mean of L2-normalised prompt embeddings per class",
            "prompt_set": prompt_set,
            "prompts_per_class": sizes,
            "bootstrap": bootstrap,
            "seed": seed,
        },
        class_names=tuple(class_names),
        accuracy=summary["accuracy"],
        mean_per_class_accuracy=summary["mean_per_class_accuracy"],
        per_class_accuracy=tuple(summary["per_class_accuracy"]),
        ci=tuple(summary["ci"]) if summary["ci"] is not None else None,
        chance=summary["chance"],
        confusion=tuple(tuple(r) for r in summary["confusion"]),
        test_key=test_key,
        test_source=test_source,
        predictions=tuple(
            {"video_id": ids[i], "label": int(y[i]), "pred": int(pred[i]), "scores": [float(s) for s in scores[i]]}
            for i in range(len(y))
        ),
    )


def evaluate_zero_shot(test: FeatureSet, text_emb: Any, *, group_sizes: Sequence[int] | None = None,
                       prompt_set: str = "custom", encoder: str | None = None, bootstrap: int = 1000,
                       seed: int = 0) -> ZeroShotResult:
    """:func:`zero_shot_classify` on a loaded feature set (keeps its ids, key and domain)."""
    from .knn import encoder_name_of

    return zero_shot_classify(
        test.features, text_emb, test.labels, test.class_names, group_sizes=group_sizes,
        video_ids=test.video_ids, encoder=encoder or encoder_name_of(test), prompt_set=prompt_set,
        test_key=test.key, test_source=source_label(test.domains), bootstrap=bootstrap, seed=seed,
    )
