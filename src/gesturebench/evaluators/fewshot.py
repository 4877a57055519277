"""Few-shot curves: accuracy against the number of labelled target videos per class.

For every repeat ``r`` a seeded random order of the pool's videos is drawn per
class (``rng = np.random.default_rng([seed, r])``, classes in class-list order,
``rng.permutation`` of the class's pool rows in store order). The ``s``-shot
training sample of repeat ``r`` is the first ``s`` videos of each class's
order, so samples are nested: the 5-shot sample contains the 2-shot one of the
same repeat. A class with fewer than ``s`` pool videos contributes all of them
and is flagged (``short_classes``). Each sample is added to the ``base`` sets
(e.g. a synthetic training set, always included) and the classifier (k-NN or
linear probe) is evaluated on the whole test set. With a non-empty ``base`` a
0-shot point (base only) starts the curve.

Per shot count the curve reports the mean accuracy over repeats and a 95%
Student-t interval of that mean (``mean +- t_{0.975, R-1} * sd / sqrt(R)``, sd
with ``ddof=1``; no interval for a single repeat or a zero spread gives a zero-width one).
Comparing the curve with and without ``base`` answers "how many target videos
is the synthetic set worth".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError, EvaluationError, check_choice, check_positive_int
from ..types import FeatureSet
from .knn import _check_inputs, encoder_name_of, source_label

log = logging.getLogger(__name__)

METHODS = ("knn", "probe")


def parse_shots(text: str | Sequence[int], name: str = "shots") -> tuple[int, ...]:
    """``"1,2,5,10"`` (or a sequence) -> sorted unique shot counts; each must be an integer >= 1."""
    items = [s.strip() for s in text.split(",")] if isinstance(text, str) else list(text)
    out = []
    for item in items:
        try:
            v = int(item) if not isinstance(item, bool) else None
        except (TypeError, ValueError):
            v = None
        if v is None or v < 1 or (isinstance(item, float) and item != v):
            raise ConfigError(f"{name} must be integers >= 1 (e.g. 1,2,5,10); got {item!r}")
        out.append(v)
    if not out:
        raise ConfigError(f"{name} must list at least one shot count (e.g. 1,2,5,10)")
    return tuple(sorted(set(out)))


def class_orders(labels: np.ndarray, num_classes: int, seed: int, repeat: int) -> list[np.ndarray]:
    """Seeded random order of the rows of each class (see the module docstring)."""
    rng = np.random.default_rng([seed, repeat])
    labels = np.asarray(labels)
    return [rng.permutation(np.flatnonzero(labels == c)) for c in range(num_classes)]


def sample_shots(labels: np.ndarray, num_classes: int, shots: int, seed: int, repeat: int) -> tuple[np.ndarray, list[int]]:
    """Rows of the ``shots``-per-class sample of one repeat (sorted) and the classes short of ``shots``."""
    check_positive_int("shots", shots)
    orders = class_orders(labels, num_classes, seed, repeat)
    rows = np.sort(np.concatenate([o[:shots] for o in orders]).astype(np.int64))
    short = [c for c, o in enumerate(orders) if len(o) < shots]
    return rows, short


def subset(fs: FeatureSet, rows: np.ndarray) -> FeatureSet:
    """The rows ``rows`` of a feature set (same key and metadata)."""
    return FeatureSet(
        fs.features[rows], fs.labels[rows], tuple(fs.video_ids[i] for i in rows), fs.class_names,
        tuple(fs.domains[i] for i in rows), tuple(fs.views[i] for i in rows), key=fs.key, meta=fs.meta,
    )


def t_interval(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float] | None:
    """Student-t interval of the mean; None for fewer than two values."""
    v = np.asarray(values, np.float64)
    if v.size < 2:
        return None
    from scipy.stats import t as student_t  # scipy ships with scikit-learn

    half = float(student_t.ppf(0.5 + confidence / 2, v.size - 1) * v.std(ddof=1) / np.sqrt(v.size))
    m = float(v.mean())
    return (m - half, m + half)


@dataclass(frozen=True)
class ShotPoint:
    """One point of the curve: every repeat's accuracy at one shot count."""

    shots: int
    accuracies: tuple[float, ...]
    mean_per_class: tuple[float, ...]
    n_sampled: tuple[int, ...]
    short_classes: tuple[str, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else 0.0

    @property
    def ci(self) -> tuple[float, float] | None:
        return t_interval(self.accuracies)

    def to_dict(self) -> dict[str, Any]:
        ci = self.ci
        return {
            "shots": self.shots,
            "mean_accuracy": self.mean,
            "std": self.std,
            "ci": list(ci) if ci is not None else None,
            "accuracies": list(self.accuracies),
            "mean_per_class_accuracies": list(self.mean_per_class),
            "n_sampled": list(self.n_sampled),
            "short_classes": list(self.short_classes),
        }


@dataclass(frozen=True)
class FewShotResult:
    """A few-shot curve; :meth:`to_dict` is its JSON body (task ``fewshot``)."""

    encoder: str
    method: str
    settings: dict[str, Any]
    class_names: tuple[str, ...]
    points: tuple[ShotPoint, ...]
    pool_key: str
    pool_source: str
    pool_per_class: tuple[int, ...]
    base_keys: tuple[str, ...]
    base_source: str | None
    n_base: int
    test_key: str
    test_source: str
    n_test: int
    chance: float
    samples: tuple[dict[str, Any], ...] = field(repr=False, default=())
    task: str = "fewshot"

    def point(self, shots: int) -> ShotPoint:
        for p in self.points:
            if p.shots == shots:
                return p
        raise KeyError(shots)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "encoder": self.encoder,
            "method": self.method,
            "settings": dict(self.settings),
            "class_names": list(self.class_names),
            "pool": {"key": self.pool_key, "source": self.pool_source, "n_per_class": list(self.pool_per_class)},
            "base": {"keys": list(self.base_keys), "source": self.base_source, "n": self.n_base},
            "test": {"key": self.test_key, "source": self.test_source, "n": self.n_test},
            "chance": self.chance,
            "curve": [p.to_dict() for p in self.points],
            "samples": [dict(s) for s in self.samples],
        }


def fewshot_curve(
    pool: FeatureSet,
    test: FeatureSet,
    *,
    shots: Sequence[int] | str = (1, 2, 5, 10),
    repeats: int = 5,
    method: str = "knn",
    base: Sequence[FeatureSet] = (),
    k: int = 3,
    metric: str = "l2",
    C: float | str = "auto",
    max_iter: int = 1000,
    weight_decay: float | None = None,
    epochs: int | None = None,
    class_balanced: bool = False,
    seed: int = 0,
    device: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    allow_overlap: bool = False,
) -> FewShotResult:
    """Accuracy on ``test`` after training on ``base`` + ``s`` pool videos per class, per ``s`` in ``shots``.

    ``progress(done, total)`` is called after each trained classifier. Base and pool
    videos that are also test videos are refused unless ``allow_overlap`` (:mod:`.checks`).
    The probe
    (``method="probe"``) chooses ``C`` on a validation split of each training sample
    (:func:`gesturebench.evaluators.probe.fit_probe`); samples with a class of one video
    use the fallback C. ``weight_decay`` / ``epochs`` are the torch probe's deprecated
    spellings of a fixed C and of ``max_iter``.
    """
    check_choice("method", method, METHODS)
    check_positive_int("repeats", repeats)
    check_positive_int("k", k)
    shot_list = parse_shots(shots)
    base = list(base)
    _check_inputs([*base, pool], test, 1)
    shared = set(pool.video_ids) & set(test.video_ids)
    if shared and not allow_overlap:
        raise EvaluationError(
            f"{len(shared)} pool videos are also test videos (e.g. {sorted(shared)[0]}); the pool must not overlap the test set"
        )
    from .checks import check_pair

    check_pair([*base, pool], test, allow_overlap=allow_overlap)
    c = len(test.class_names)
    pool_counts = np.bincount(pool.labels, minlength=c)
    n_base = sum(len(b) for b in base)
    if method == "knn":
        smallest = n_base + int(np.minimum(pool_counts, shot_list[0]).sum())
        if k > smallest:
            raise EvaluationError(
                f"k={k} exceeds the {smallest} training videos at {shot_list[0]} shot(s); lower k or raise the shot counts"
            )

    if method == "probe":
        from .probe import check_c, regularisation_token

        C = check_c(C)
        requested = regularisation_token(C, weight_decay)
        if epochs is not None:
            max_iter = check_positive_int("epochs", epochs)
        check_positive_int("max_iter", max_iter)
    chosen: dict[int, list[float]] = {}

    def run(train: list[FeatureSet], shots: int) -> tuple[float, float]:
        if method == "knn":
            from .knn import evaluate_knn

            r = evaluate_knn(train, test, k=k, metric=metric, bootstrap=0, seed=seed, device=device,
                             allow_overlap=True)  # checked once above
        else:
            from .probe import evaluate_probe

            r = evaluate_probe(train, test, C=C, weight_decay=weight_decay, max_iter=max_iter,
                               class_balanced=class_balanced, seed=seed, bootstrap=0, allow_overlap=True)
            chosen.setdefault(shots, []).append(r.settings["C_chosen"])
        return r.accuracy, r.mean_per_class_accuracy

    total = len(shot_list) * repeats + (1 if base else 0)
    done = 0
    points: list[ShotPoint] = []
    samples: list[dict[str, Any]] = []
    if base:
        acc, mpc = run(base, 0)
        points.append(ShotPoint(0, (acc,), (mpc,), (0,), ()))
        done += 1
        if progress:
            progress(done, total)
    for s in shot_list:
        accs, mpcs, ns = [], [], []
        short: list[int] = []
        for r in range(repeats):
            rows, short = sample_shots(pool.labels, c, s, seed, r)
            acc, mpc = run([*base, subset(pool, rows)], s)
            accs.append(acc)
            mpcs.append(mpc)
            ns.append(int(rows.size))
            samples.append({"shots": s, "repeat": r, "video_ids": [pool.video_ids[i] for i in rows]})
            done += 1
            if progress:
                progress(done, total)
        names = tuple(test.class_names[i] for i in short)
        if names:
            log.warning("%d-shot: classes with fewer pool videos than shots (all used): %s", s, ", ".join(names))
        points.append(ShotPoint(s, tuple(accs), tuple(mpcs), tuple(ns), names))
        log.info("%d-shot %s: mean accuracy %.4f over %d repeats", s, method, points[-1].mean, repeats)

    settings: dict[str, Any] = {"shots": list(shot_list), "repeats": repeats, "seed": seed, "method": method,
                                "sampling": "nested per-class permutations, rng = default_rng([seed, repeat])",
                                "interval": "95% Student-t over repeats"}
    if method == "knn":
        settings.update(k=k, metric=metric)
    else:
        settings.update(classifier="scikit-learn LogisticRegression(solver='lbfgs')",
                        C=C if weight_decay is None else None, weight_decay=weight_decay, regularisation=requested,
                        max_iter=max_iter,
                        class_balanced=class_balanced,
                        C_chosen={str(shots): cs for shots, cs in chosen.items()})
    enc = encoder_name_of(test)
    return FewShotResult(
        encoder=enc if enc != "unknown" else encoder_name_of(pool),
        method=method,
        settings=settings,
        class_names=tuple(test.class_names),
        points=tuple(points),
        pool_key=pool.key,
        pool_source=source_label(pool.domains),
        pool_per_class=tuple(int(v) for v in pool_counts),
        base_keys=tuple(b.key for b in base),
        base_source=source_label([d for b in base for d in b.domains]) if base else None,
        n_base=n_base,
        test_key=test.key,
        test_source=source_label(test.domains),
        n_test=len(test),
        chance=1.0 / len(set(test.labels.tolist())),  # classes actually in the test set
        samples=tuple(samples),
    )


def curve_png(result: FewShotResult, path: Any, others: Sequence[FewShotResult] = ()) -> Any:
    """Line plot of mean accuracy against shots with the CI band (matplotlib Agg, no pyplot)."""
    from pathlib import Path

    from ..report.plots import _figure, _save

    fig = _figure(6.0, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for res in (result, *others):
        xs = [p.shots for p in res.points]
        ys = [100 * p.mean for p in res.points]
        label = f"{res.method}: {res.base_source or 'no base'} + {res.pool_source} shots"
        (line,) = ax.plot(xs, ys, marker="o", label=label)
        lo = [100 * (p.ci[0] if p.ci else p.mean) for p in res.points]
        hi = [100 * (p.ci[1] if p.ci else p.mean) for p in res.points]
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2)
    ax.axhline(100 * result.chance, color="grey", linestyle="--", linewidth=1, label=f"chance {100 * result.chance:.1f}%")
    ax.set_xlabel(f"labelled {result.pool_source} videos per class")
    ax.set_ylabel(f"top-1 accuracy on {result.test_source} (%)")
    ax.set_ylim(0, 100)
    ax.set_title(f"{result.encoder}: few-shot curve (95% CI over {result.settings['repeats']} repeats)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, Path(path))


def fewshot_filename(doc: dict[str, Any]) -> str:
    from .results import result_filename

    return result_filename(doc)


def write_fewshot_result(result: FewShotResult, out: Any, *, overwrite: bool = False) -> Any:
    """Write the curve JSON (a ``fewshot`` result document); ``out``: file or folder. See :func:`results.write_result`."""
    from .results import write_result

    return write_result(result, out, overwrite=overwrite)
