"""Exact k-nearest-neighbour classification of features, and its evaluation.

The study's protocol (arXiv 2410.02152): each test video is classified by the
majority vote of its K=3 nearest training videos under L2 distance.

How the neighbours are found (exact, bounded memory, deterministic):

1. Queries are processed in chunks of *rows* (never a fixed number of chunks,
   so 1 or 7 queries work), and the training set in chunks of rows when one
   (queries x train) block would exceed ``max_block_elems``.
2. A fast float32 pass scores every training row with ``|b|^2 - 2 a.b`` (one
   matrix multiply). Its rounding error is bounded by ``c (|a| + |b|)^2`` with
   ``c = 2 (D + 16) u`` (``u`` = float32 unit roundoff), so every training row
   that could truly be among the k nearest lies within ``2 * bound`` of the
   k-th smallest approximate score. Those candidates -- usually a handful per
   query -- are kept.
3. Candidates are re-scored in float64 directly from their differences
   (``sum((a - b)^2)``; cosine: ``1 - a.b`` of float64-normalised rows) and
   ordered by (distance, training index), so exact duplicates and near-ties are
   resolved the same way on every machine and in every chunking.

Majority vote tie-break (documented rule): when several classes share the top
vote count, the prediction is the class of the nearest neighbour among the
neighbours belonging to those tied classes.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import EvaluationError, check_choice, check_positive_int
from ..types import FeatureSet
from . import metrics as M
from .checks import check_pair
from .common import check_inputs, encoder_identity, encoder_name_of, source_label, weights_sha_of

# old private names, still imported by probe/fewshot
_check_inputs = check_inputs
_encoder_identity = encoder_identity

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

METRICS = ("l2", "cosine")
#: Default cap on elements of one float32 distance block (64 MiB).
DEFAULT_BLOCK_ELEMS = 1 << 24
#: Scores kept per query beyond k before falling back to a full scan for candidates.
_EXTRA = 13


# --------------------------------------------------------------------------- neighbours


def _as_float_tensor(x: Any, name: str) -> torch.Tensor:
    import torch

    t = torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x)
    if t.ndim != 2:
        raise EvaluationError(f"{name} must be 2-D (N, D); got shape {tuple(t.shape)}")
    return t.to(torch.float32)


def _eps_for(device: torch.device) -> float:
    import torch

    u = 2.0**-24  # float32 unit roundoff
    if device.type == "cuda" and torch.backends.cuda.matmul.allow_tf32:
        u = 2.0**-11  # TF32 keeps 10 mantissa bits
    return u


def knn_neighbors(
    train_x: Any,
    test_x: Any,
    k: int = 3,
    metric: str = "l2",
    chunk_rows: int | None = None,
    device: str | torch.device | None = None,
    *,
    max_block_elems: int = DEFAULT_BLOCK_ELEMS,
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest training rows of each test row.

    Returns ``(indices int64 (Q, k), distances float64 (Q, k))`` ordered by
    (distance, training index). L2 distances are Euclidean (square-rooted);
    cosine distances are ``1 - cos``. ``chunk_rows`` = queries per chunk
    (default: as many as fit in ``max_block_elems`` distance entries).
    """
    import torch

    from ..runtime import resolve_device

    check_choice("metric", metric, METRICS)
    check_positive_int("k", k)
    check_positive_int("max_block_elems", max_block_elems)
    if chunk_rows is not None:
        check_positive_int("chunk_rows", chunk_rows)
    dev = device if isinstance(device, torch.device) else resolve_device(device or "auto")

    train = _as_float_tensor(train_x, "train features")
    test = _as_float_tensor(test_x, "test features")
    n, d = train.shape
    q = test.shape[0]
    if test.shape[1] != d:
        raise EvaluationError(f"test feature dimension {test.shape[1]} differs from training dimension {d}")
    if n == 0:
        raise EvaluationError("the training set is empty")
    if k > n:
        raise EvaluationError(f"k={k} exceeds the number of training rows ({n})")
    if q == 0:
        return np.zeros((0, k), np.int64), np.zeros((0, k), np.float64)

    with torch.inference_mode():
        idx, dist = _knn_impl(train.to(dev), test.to(dev), k, metric, chunk_rows, max_block_elems)
    dist_np = dist.cpu().numpy()
    # numpy's sqrt is correctly rounded; torch's vectorised CPU sqrt can be 1 ulp off,
    # which would break exact ties between equal distances computed in different places.
    return idx.cpu().numpy(), (np.sqrt(dist_np) if metric == "l2" else dist_np)


def _row_norms(x: torch.Tensor, dtype: torch.dtype, rows: int) -> torch.Tensor:
    import torch

    out = torch.empty(x.shape[0], dtype=dtype, device=x.device)
    for s in range(0, x.shape[0], rows):
        out[s : s + rows] = torch.linalg.vector_norm(x[s : s + rows].to(dtype), dim=1)
    return out


def _knn_impl(train, test, k, metric, chunk_rows, max_block_elems):
    import torch

    n, d = train.shape
    q = test.shape[0]
    f32 = torch.float32
    norm_rows = max(1, max_block_elems // max(d, 1))
    tnorm = _row_norms(train, f32, norm_rows)
    if not bool(torch.isfinite(tnorm).all()) or not bool(torch.isfinite(test).all()):
        raise EvaluationError("features contain NaN or infinite values (or values too large for float32)")

    colscale = None
    if metric == "cosine":
        # Score 1 - 2 (a/|a|).b/|b| ranks like 1 - cos without a normalised copy of the
        # training set; zero rows score 1 (cos = 0, as in scikit-learn).
        q64 = test.to(torch.float64)
        qn = torch.linalg.vector_norm(q64, dim=1, keepdim=True)
        approx_test = torch.where(qn > 0, q64 / qn, torch.zeros_like(q64)).to(f32)
        approx_train = train
        colscale = torch.where(tnorm > 0, 1.0 / tnorm, torch.zeros_like(tnorm))
        bn2 = torch.ones(n, dtype=f32, device=train.device)
    else:
        # float32 is enough here: any translation preserves L2 distances, and the final
        # distances are recomputed from the raw rows; a strided sample of rows suffices.
        mean = train[:: max(1, n // 4096)].mean(0)
        sq = tnorm.square()
        # Centring shrinks the error bound when features share a large offset
        # (e.g. post-ReLU features); it costs a copy, so only do it when it pays.
        if float(mean.square().sum()) > 0.25 * float(sq.mean()):
            approx_train = train - mean
            approx_test = test - mean
            bn2 = _row_norms(approx_train, f32, norm_rows).square_()
        else:
            approx_train, approx_test, bn2 = train, test, sq
    bmax = float(bn2.max().sqrt())
    c = 2.0 * (d + 16) * _eps_for(train.device)

    on_cpu = train.device.type == "cpu"

    def score(a2, s, e):
        if on_cpu:
            # numpy's OpenBLAS sgemm measured ~1.5x faster than torch's MKL one for these
            # shapes on our AMD CPUs (see docs/evaluation.md); both are float32 GEMMs.
            block = torch.from_numpy(np.matmul(a2.numpy(), approx_train[s:e].numpy().T))
        else:
            block = torch.mm(a2, approx_train[s:e].T)
        if colscale is not None:
            block.mul_(colscale[s:e])
        return block.add_(bn2[s:e])

    if chunk_rows is None:
        chunk_rows = max(1, min(q, max_block_elems // n))
    train_rows = max(k, max_block_elems // chunk_rows)

    out_idx = torch.empty((q, k), dtype=torch.int64, device=train.device)
    out_dist = torch.empty((q, k), dtype=torch.float64, device=train.device)
    for s in range(0, q, chunk_rows):
        a = approx_test[s : s + chunk_rows]
        margin = 2.0 * c * (torch.linalg.vector_norm(a, dim=1) + bmax) ** 2
        qi, ti = _candidates(score, a * -2.0, n, k, margin, train_rows)
        exact = _exact_distances(test, train, qi + s, ti, metric, norm_rows)
        # order by (query, distance, train index): stable sorts, least significant key first
        order = torch.argsort(ti, stable=True)
        order = order[torch.argsort(exact[order], stable=True)]
        order = order[torch.argsort(qi[order], stable=True)]
        counts = torch.bincount(qi, minlength=a.shape[0])
        starts = torch.cumsum(counts, 0) - counts
        take = order[(starts[:, None] + torch.arange(k, device=starts.device)[None, :])]
        out_idx[s : s + a.shape[0]] = ti[take]
        out_dist[s : s + a.shape[0]] = exact[take]
    if metric == "l2":
        out_dist = out_dist.clamp_min_(0)  # squared; square-rooted by the caller (see knn_neighbors)
    return out_idx, out_dist


def _candidates(score, a2, n, k, margin, train_rows):
    """Pairs (query row, train row) whose approximate score may be among the k smallest."""
    import torch

    if n <= train_rows:  # one block: score once
        block = score(a2, 0, n)
        m = min(n, k + _EXTRA)
        top = torch.topk(block, m, dim=1, largest=False, sorted=True)
        thr = top.values[:, k - 1] + margin
        if m == n or bool((top.values[:, -1] > thr).all()):
            # usual case: every candidate is among the m smallest scores
            qi, j = torch.nonzero(top.values <= thr[:, None], as_tuple=True)
            return qi, top.indices[qi, j]
        return torch.nonzero(block <= thr[:, None], as_tuple=True)
    # Two passes over training chunks: k-th smallest score first, then the candidates.
    best = None
    for s in range(0, n, train_rows):
        block = score(a2, s, s + train_rows)
        top = torch.topk(block, min(k, block.shape[1]), dim=1, largest=False).values
        best = top if best is None else torch.topk(torch.cat([best, top], 1), k, dim=1, largest=False).values
    thr = (best[:, -1] + margin)[:, None]
    qis, tis = [], []
    for s in range(0, n, train_rows):
        qi, ti = torch.nonzero(score(a2, s, s + train_rows) <= thr, as_tuple=True)
        qis.append(qi)
        tis.append(ti + s)
    return torch.cat(qis), torch.cat(tis)


def _unit64(x):
    import torch

    norm = torch.linalg.vector_norm(x, dim=1, keepdim=True)
    return torch.where(norm > 0, x / norm, torch.zeros_like(x))


def _exact_distances(test, train, qi, ti, metric, block_rows):
    """float64 distances of the candidate pairs, computed from the raw rows in blocks."""
    import torch

    out = torch.empty(qi.shape[0], dtype=torch.float64, device=train.device)
    for s in range(0, qi.shape[0], block_rows):
        a = test[qi[s : s + block_rows]].to(torch.float64)
        b = train[ti[s : s + block_rows]].to(torch.float64)
        if metric == "l2":
            out[s : s + block_rows] = (a - b).square_().sum(1)
        else:
            out[s : s + block_rows] = 1.0 - (_unit64(a) * _unit64(b)).sum(1)
    return out


# --------------------------------------------------------------------------- vote


def majority_vote(neighbor_labels: Any, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Majority vote over neighbour labels ordered nearest first.

    Returns ``(predictions int64 (Q,), vote_tied bool (Q,))``. Ties between
    classes with the same top count go to the class of the nearest neighbour
    among those classes' neighbours.
    """
    labels = np.asarray(neighbor_labels, dtype=np.int64)
    if labels.ndim != 2:
        raise EvaluationError(f"neighbour labels must be 2-D (Q, k); got shape {labels.shape}")
    q, k = labels.shape
    if q == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise EvaluationError(f"neighbour labels must lie in 0..{num_classes - 1}; got {labels.min()}..{labels.max()}")
    counts = np.zeros((q, num_classes), np.int64)
    np.add.at(counts, (np.repeat(np.arange(q), k), labels.ravel()), 1)
    top = counts.max(1, keepdims=True)
    tied_classes = counts == top
    tied = tied_classes.sum(1) > 1
    in_tied = np.take_along_axis(tied_classes, labels, 1)  # (Q, k): neighbour's class is a top class
    first = in_tied.argmax(1)  # nearest such neighbour
    return labels[np.arange(q), first], tied


def knn_predict(
    train_x: Any,
    train_y: Any,
    test_x: Any,
    k: int = 3,
    metric: str = "l2",
    chunk_rows: int | None = None,
    device: str | torch.device | None = None,
    *,
    num_classes: int | None = None,
    max_block_elems: int = DEFAULT_BLOCK_ELEMS,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """k-NN classification: ``(predicted labels, neighbour indices, neighbour distances)``.

    Pure function on arrays/tensors; see the module docstring for exactness
    and the tie-break rule. ``num_classes`` defaults to ``max(train_y) + 1``.
    """
    y = np.asarray(train_y.cpu() if hasattr(train_y, "cpu") else train_y).astype(np.int64, copy=False)
    if y.ndim != 1:
        raise EvaluationError(f"train labels must be 1-D; got shape {y.shape}")
    n_train = int(np.shape(train_x)[0]) if np.ndim(train_x) == 2 else -1
    if n_train >= 0 and y.shape[0] != n_train:
        raise EvaluationError(f"{y.shape[0]} train labels for {n_train} training rows")
    if y.size and y.min() < 0:
        raise EvaluationError(f"train labels must be >= 0; got {int(y.min())}")
    c = int(num_classes) if num_classes is not None else (int(y.max()) + 1 if y.size else 0)
    idx, dist = knn_neighbors(train_x, test_x, k, metric, chunk_rows, device, max_block_elems=max_block_elems)
    pred, _ = majority_vote(y[idx], c) if idx.shape[0] else (np.zeros(0, np.int64), None)
    return pred, idx, dist


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class KnnResult(M.ClassificationDocument):
    """Everything one k-NN run measured; :meth:`to_dict` is the result-file body."""

    train_keys: tuple[str, ...]
    train_source: str
    n_train_per_domain: dict[str, int]
    test_key: str
    test_source: str
    predictions: tuple[dict[str, Any], ...] = field(repr=False)
    task: str = "knn"

    @property
    def vote_ties(self) -> int:
        """How many test videos the tie-break rule decided."""
        return sum(1 for p in self.predictions if p.get("vote_tied"))

    def extra_metrics(self) -> dict[str, Any]:
        return {"vote_ties": self.vote_ties}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KnnResult:
        """Inverse of :meth:`to_dict` (validate with ``results.load_result`` first)."""
        m = d["metrics"]
        return cls(
            encoder=d["encoder"],
            settings=dict(d["settings"]),
            class_names=tuple(d["class_names"]),
            accuracy=float(m["accuracy"]),
            mean_per_class_accuracy=float(m["mean_per_class_accuracy"]),
            per_class_accuracy=tuple(m["per_class_accuracy"]),
            ci=tuple(m["ci"]) if m.get("ci") is not None else None,
            chance=float(m["chance"]),
            confusion=tuple(tuple(int(v) for v in r) for r in d["confusion"]),
            train_keys=tuple(d["train"]["keys"]),
            train_source=d["train"]["source"],
            n_train_per_domain=dict(d["train"]["n_per_domain"]),
            test_key=d["test"]["key"],
            test_source=d["test"]["source"],
            predictions=tuple(d.get("predictions", ())),
        )


def evaluate_knn(
    train: list[FeatureSet] | FeatureSet,
    test: FeatureSet,
    k: int = 3,
    metric: str = "l2",
    bootstrap: int = 1000,
    seed: int = 0,
    *,
    confidence: float = 0.95,
    chunk_rows: int | None = None,
    device: str | None = None,
    allow_overlap: bool = False,
) -> KnnResult:
    """Classify every test video by k-NN against the union of ``train``; measure it.

    Refuses test videos that are also training videos unless ``allow_overlap``, and
    feature sets extracted with different settings (:mod:`.checks`).
    """
    check_positive_int("k", k)
    check_choice("metric", metric, METRICS)
    M.check_bootstrap(bootstrap)
    train = [train] if isinstance(train, FeatureSet) else list(train)
    check_inputs(train, test, k)
    overlap = check_pair(train, test, allow_overlap=allow_overlap)
    class_names = train[0].class_names
    c = len(class_names)
    train_x = np.concatenate([t.features for t in train], 0) if len(train) > 1 else train[0].features
    train_y = np.concatenate([t.labels for t in train], 0)
    train_ids = [v for t in train for v in t.video_ids]
    train_domains = [d for t in train for d in t.domains]

    from ..runtime import resolve_device

    dev = resolve_device(device or "auto")
    pred, idx, dist = knn_predict(train_x, train_y, test.features, k, metric, chunk_rows, dev, num_classes=c)
    _, tied = majority_vote(train_y[idx], c)
    summary = M.classification_summary(test.labels, pred, c, bootstrap=bootstrap, seed=seed, confidence=confidence)
    predictions = tuple(
        {
            "video_id": test.video_ids[i],
            "label": int(test.labels[i]),
            "pred": int(pred[i]),
            "vote_tied": bool(tied[i]),
            "neighbors": [train_ids[j] for j in idx[i]],
            "neighbor_labels": [int(train_y[j]) for j in idx[i]],
            "distances": [float(v) for v in dist[i]],
        }
        for i in range(len(test))
    )
    settings = {
        "k": k,
        "metric": metric,
        "vote": "majority; ties -> class of the nearest neighbour among tied classes",
        "bootstrap": bootstrap,
        "seed": seed,
        "confidence": confidence,
        "device": dev.type,
        "encoder_weights_sha256": weights_sha_of(test),
    }
    if overlap["rows"]:
        settings["overlap_allowed"] = len(overlap["rows"])
    log.info("k-NN %s k=%d: accuracy %.4f on %d test videos", metric, k, summary["accuracy"], len(test))
    return KnnResult(
        encoder=encoder_name_of(test) if encoder_name_of(test) != "unknown" else encoder_name_of(train[0]),
        settings=settings,
        class_names=tuple(class_names),
        accuracy=summary["accuracy"],
        mean_per_class_accuracy=summary["mean_per_class_accuracy"],
        per_class_accuracy=tuple(summary["per_class_accuracy"]),
        ci=tuple(summary["ci"]) if summary["ci"] is not None else None,
        chance=summary["chance"],
        confusion=tuple(tuple(r) for r in summary["confusion"]),
        train_keys=tuple(t.key for t in train),
        train_source=source_label(train_domains),
        n_train_per_domain=dict(sorted(Counter(train_domains).items())),
        test_key=test.key,
        test_source=source_label(test.domains),
        predictions=predictions,
    )
