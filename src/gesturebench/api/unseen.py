"""``gesturebench unseen``: does training on the seen classes help recognise classes never trained on?

For each fold (a split of the classes into seen and unseen, see
:func:`gesturebench.evaluators.unseen.make_folds`):

1. frozen: features of the training, test (and support) lists from the
   frozen encoder, extracted once into feature stores under ``DIR/stores/``
   (cached, resumable);
2. trained on the seen classes of the training lists only, by ``method``:
   ``head``: an MLP adapter on the frozen features (k-NN in its hidden layer);
   ``partial`` / ``full``: ``finetune`` of the encoder (``DIR/folds/<fold>/run``), then
   features extracted with the fine-tuned weights;
3. k-NN (K=3, L2) of the unseen-class test videos against the support videos
   of the unseen classes (default: the training lists' videos of those
   classes; ``support_lists``; ``shots`` per class, seeded), and of the
   seen-class test videos against the seen-class training videos, for both.

Each finished fold is written to ``DIR/folds/<fold>.json`` (resume skips it);
``DIR/unseen.json`` gathers folds and the paired summary.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ConfigError, check_choice

if TYPE_CHECKING:
    from ..training.adapter import AdapterConfig
    from ..training.config import FinetuneConfig

log = logging.getLogger(__name__)

METHODS = ("head", "partial", "full")
RESULT_FILE = "unseen.json"


@dataclass(frozen=True)
class UnseenResult:
    path: Path
    document: dict[str, Any]
    cached: bool
    folds_reused: int


def describe_method(method: str, encoder: str, training_free: bool) -> str:
    from ..training.adapter import TRAINING_FREE

    if method == "head":
        if training_free:
            return f"MLP adapter on {encoder} features: {TRAINING_FREE}"
        return f"MLP adapter on frozen {encoder} features (the encoder itself is not fine-tuned)"
    return f"{encoder} fine-tuned ({method}) on the seen classes"


def _rows(fs, labels: set[int]) -> np.ndarray:
    return np.flatnonzero(np.isin(fs.labels, sorted(labels)))


def _shot_rows(fs, rows: np.ndarray, shots: int | None, seed: int, fold: str, class_names) -> np.ndarray:
    if shots is None:
        return rows
    from ..training.clips import rng_for

    keep = []
    for c in sorted(set(fs.labels[rows].tolist())):
        mine = rows[fs.labels[rows] == c]
        pick = rng_for(seed, "shots", fold, class_names[c]).choice(mine.size, size=shots, replace=False)
        keep.append(mine[np.sort(pick)])
    return np.sort(np.concatenate(keep))


def _check_folds(folds, class_names, train_fs, test_fs, support_fs, shots: int | None, method: str) -> None:
    index = {c: i for i, c in enumerate(class_names)}
    support_counts = np.bincount(support_fs.labels, minlength=len(class_names))
    test_counts = np.bincount(test_fs.labels, minlength=len(class_names))
    train_counts = np.bincount(train_fs.labels, minlength=len(class_names))
    for unseen, seen in folds:
        for c in unseen:
            if support_counts[index[c]] == 0:
                raise ConfigError(f"unseen class {c!r} has no support videos (in the "
                                  f"{'support' if support_fs is not train_fs else 'training'} lists)")
            if test_counts[index[c]] == 0:
                raise ConfigError(f"unseen class {c!r} has no test videos in the test lists")
            if shots is not None and shots > support_counts[index[c]]:
                raise ConfigError(f"--shots {shots} is more than the {support_counts[index[c]]} support videos of "
                                  f"unseen class {c!r}")
        trained = [c for c in seen if train_counts[index[c]] > 0]
        if len(trained) < 2:
            raise ConfigError(f"fold with unseen {', '.join(unseen)} leaves {len(trained)} seen class(es) with "
                              "training videos; training needs at least 2")


def _leakage(test_m, others) -> None:
    test_ids = {r.video_id for r in test_m.records}
    for m, what in others:
        both = sorted(test_ids & {r.video_id for r in m.records})
        if both:
            raise ConfigError(f"{len(both)} test video(s) are also in the {what} lists (first: {both[0]}); "
                              "refusing a leaked evaluation")


def _extract(manifest, enc, store: Path, workers: int, progress) -> Any:
    from ..data.sampling import SamplerConfig
    from ..features.extract import extract_features
    from ..features.store import FeatureStore

    if progress:
        progress("extract", store=str(store), n=len(manifest))
    rep = extract_features(manifest, enc, store, SamplerConfig(name="tsn", num_frames=enc.spec.num_frames),
                           workers=workers)
    if rep.bad:
        log.warning("%s: skipped %d undecodable video(s)", store, len(rep.bad))
    return FeatureStore(store).load()


def run_unseen(
    data: str | Path,
    train_lists: Sequence[str | Path],
    test_lists: Sequence[str | Path],
    encoder: str,
    out: str | Path,
    *,
    weights: str | Path | None = None,
    method: str = "head",
    unseen_classes: int = 3,
    folds: int = 5,
    split: Sequence[str] | None = None,
    support_lists: Sequence[str | Path] | None = None,
    shots: int | None = None,
    seed: int = 0,
    finetune_cfg: FinetuneConfig | None = None,
    adapter_cfg: AdapterConfig | None = None,
    device: str = "auto",
    workers: int | str = "auto",
    encoder_options: dict[str, Any] | None = None,
    overwrite: bool = False,
    progress: Callable[..., None] | None = None,
) -> UnseenResult:
    """Run the unseen-class protocol into ``out``; see the module doc."""
    from ..data.manifest import load_manifest
    from ..encoders.torch_encoder import TorchEncoder
    from ..evaluators import unseen as U
    from ..features.loader import resolve_workers
    from ..fileio import atomic_write_json, sha256_json
    from ..training.adapter import AdapterConfig
    from ..training.config import FinetuneConfig
    from ..training.trainable import trainable_view
    from .extract import build_encoder

    check_choice("--method", method, METHODS)
    if shots is not None and (isinstance(shots, bool) or not isinstance(shots, int) or shots < 1):
        raise ConfigError(f"--shots must be an integer >= 1; got {shots!r}")
    out = Path(out)
    n_workers = resolve_workers(workers)
    train_m = load_manifest(data, list(train_lists))
    test_m = load_manifest(data, list(test_lists))
    support_m = load_manifest(data, list(support_lists)) if support_lists else None
    names = train_m.class_names
    for m, what in ((test_m, "test"), (support_m, "support")):
        if m is not None and m.class_names != names:
            raise ConfigError(f"the {what} lists' classes ({', '.join(m.class_names)}) differ from the training lists' "
                              f"({', '.join(names)})")
    _leakage(test_m, [(train_m, "training")] + ([(support_m, "support")] if support_m is not None else []))
    fold_list = U.make_folds(names, unseen_classes, folds, split, seed)
    k_unseen = len(fold_list[0][0])

    enc = build_encoder(encoder, Path(weights) if weights else None, device, None, encoder_options)
    training_free = not isinstance(enc, TorchEncoder)
    if method != "head":
        trainable_view(enc)  # one-line error when there is nothing to train, before any work
    ft_cfg = finetune_cfg or FinetuneConfig(mode="full" if method == "full" else "partial", seed=seed)
    if method != "head" and ft_cfg.mode != method:
        raise ConfigError(f"--method {method} but the fine-tuning settings say mode {ft_cfg.mode!r}")
    ad_cfg = adapter_cfg or AdapterConfig(seed=seed)
    description = describe_method(method, enc.name, training_free)
    settings = {
        "method": method,
        "method_description": description,
        "unseen_classes": k_unseen,
        "folds_requested": folds,
        "split": list(split) if split else None,
        "shots": shots,
        "seed": seed,
        "k": 3,
        "metric": "l2",
        "support": "support lists" if support_m is not None else "training lists (videos of the unseen classes)",
        "train_lists": list(train_m.sources),
        "test_lists": list(test_m.sources),
        "support_lists": list(support_m.sources) if support_m is not None else None,
        "adapter": ad_cfg.to_dict() if method == "head" else None,
        "finetune": ft_cfg.to_dict() if method != "head" else None,
    }
    identity = {
        "settings": settings,
        "encoder": enc.identity(),
        "folds": [list(u) for u, _ in fold_list],
        "train": train_m.content_hash(), "test": test_m.content_hash(),
        "support": support_m.content_hash() if support_m is not None else None,
    }
    key = sha256_json(identity)
    final = out / RESULT_FILE
    if final.is_file():
        doc = json.loads(final.read_text(encoding="utf-8"))
        if doc.get("run_key") == key:
            return UnseenResult(final, doc, True, len(doc["folds"]))
        if not overwrite:
            raise ConfigError(f"{final} holds an unseen-class run with other settings; use --overwrite or another --out")
    out.mkdir(parents=True, exist_ok=True)

    stores = out / "stores"
    train_fs = _extract(train_m, enc, stores / "frozen-train", n_workers, progress)
    test_fs = _extract(test_m, enc, stores / "frozen-test", n_workers, progress)
    support_fs = _extract(support_m, enc, stores / "frozen-support", n_workers, progress) if support_m else train_fs
    from ..evaluators.checks import check_pair

    # the project's leakage (same file / identical features) and same-extraction checks
    check_pair([train_fs] + ([support_fs] if support_m is not None else []), test_fs)
    _check_folds(fold_list, names, train_fs, test_fs, support_fs, shots, method)

    fold_docs, frozen_scores, tuned_scores, reused = [], [], [], 0
    for i, (unseen, seen) in enumerate(fold_list):
        name = U.fold_name(unseen)
        fold_file = out / "folds" / f"{name}.json"
        if fold_file.is_file():
            cached = json.loads(fold_file.read_text(encoding="utf-8"))
            if cached.get("run_key") == key and not overwrite:
                fold_docs.append(cached["fold"])
                frozen_scores.append(_score_of(cached["outcomes"]["frozen"]))
                tuned_scores.append(_score_of(cached["outcomes"]["finetuned"]))
                reused += 1
                continue
        if progress:
            progress("fold", index=i + 1, total=len(fold_list), unseen=unseen)
        u_lab = {names.index(c) for c in unseen}
        s_lab = {names.index(c) for c in seen}
        sup_rows = _shot_rows(support_fs, _rows(support_fs, u_lab), shots, seed, name, names)
        tr_rows = _rows(train_fs, s_lab)
        frozen = U.score_fold(support_fs.features[sup_rows], support_fs.labels[sup_rows], train_fs.features[tr_rows],
                              train_fs.labels[tr_rows], test_fs.features, test_fs.labels, u_lab)
        if method == "head":
            tuned = _adapter_fold(train_fs, test_fs, support_fs, sup_rows, tr_rows, s_lab, u_lab, ad_cfg)
        else:
            tuned = _finetune_fold(data, train_lists, test_m, train_m, support_m, encoder, weights, out / "folds" / name,
                                   ft_cfg, seen, device, n_workers, encoder_options, test_fs, support_fs, train_fs,
                                   sup_rows, tr_rows, u_lab, progress)
        fold_doc = {
            "unseen": list(unseen), "seen": list(seen),
            "n_test_unseen": int(frozen.unseen_correct.size), "n_test_seen": int(frozen.seen_correct.size),
            "n_support": int(sup_rows.size),
            "frozen": frozen.to_dict(), "finetuned": tuned.to_dict(),
        }
        atomic_write_json(fold_file, {"run_key": key, "fold": fold_doc, "outcomes": {
            "frozen": _outcomes(frozen), "finetuned": _outcomes(tuned)}})
        fold_docs.append(fold_doc)
        frozen_scores.append(frozen)
        tuned_scores.append(tuned)

    from ..evaluators.results import result_document

    doc = result_document({
        "task": "unseen",
        "encoder": enc.name,
        "settings": settings,
        "run_key": key,
        "class_names": list(names),
        "folds": fold_docs,
        "summary": U.summarize(frozen_scores, tuned_scores, k_unseen, seed=seed),
        "frozen_store_keys": {"train": train_fs.key, "test": test_fs.key,
                              "support": support_fs.key if support_m is not None else None},
    })
    atomic_write_json(final, doc)
    return UnseenResult(final, doc, False, reused)


def _outcomes(score) -> dict[str, list[bool]]:
    return {"unseen": score.unseen_correct.astype(bool).tolist(), "seen": score.seen_correct.astype(bool).tolist()}


def _score_of(d: dict[str, list[bool]]):
    from ..evaluators.unseen import FoldScore

    return FoldScore(np.asarray(d["unseen"], bool), np.asarray(d["seen"], bool))


def _adapter_fold(train_fs, test_fs, support_fs, sup_rows, tr_rows, s_lab, u_lab, cfg):
    from ..evaluators.unseen import score_fold
    from ..training.adapter import embed, fit_adapter

    seen_sorted = sorted(s_lab)
    remap = {c: j for j, c in enumerate(seen_sorted)}
    y = np.asarray([remap[int(c)] for c in train_fs.labels[tr_rows]], np.int64)
    model = fit_adapter(train_fs.features[tr_rows], y, len(seen_sorted), cfg)
    return score_fold(embed(model, support_fs.features[sup_rows]), support_fs.labels[sup_rows],
                      embed(model, train_fs.features[tr_rows]), train_fs.labels[tr_rows],
                      embed(model, test_fs.features), test_fs.labels, u_lab)


def _finetune_fold(data, train_lists, test_m, train_m, support_m, encoder, weights, fold_dir, cfg, seen, device,
                   workers, encoder_options, test_fs, support_fs, train_fs, sup_rows, tr_rows, u_lab, progress):
    from ..evaluators.unseen import score_fold
    from .extract import build_encoder
    from .finetune import finetune

    run = finetune(data, train_lists, encoder, fold_dir / "run", cfg, weights=weights, classes=list(seen),
                   device=device, workers=workers, encoder_options=encoder_options)
    tuned = build_encoder(encoder, run.model_path, device, None, encoder_options)
    tr = _extract(train_m, tuned, fold_dir / "stores" / "train", workers, progress)
    te = _extract(test_m, tuned, fold_dir / "stores" / "test", workers, progress)
    su = _extract(support_m, tuned, fold_dir / "stores" / "support", workers, progress) if support_m else tr
    # the same rows as the frozen side: stores keep manifest order and skip the same undecodable videos
    for a, b in ((tr, train_fs), (te, test_fs), (su, support_fs)):
        if a.video_ids != b.video_ids:
            raise ConfigError("fine-tuned and frozen feature stores hold different videos; rerun with --overwrite")
    return score_fold(su.features[sup_rows], su.labels[sup_rows], tr.features[tr_rows], tr.labels[tr_rows],
                      te.features, te.labels, u_lab)
