"""Wires the stages together for users and the CLI.

Each function here is a thin composition of library stages; all real work
lives in ``data``, ``synth``, ``features``, ``evaluators`` and ``report``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, check_positive_int

log = logging.getLogger(__name__)

#: Progress callback: (stage description, done, total). ``total`` may be None.
Progress = Callable[[str, int, int | None], None]

DEMO_TRAIN_SOURCES = ("synthetic", "target", "synthetic+target")


@dataclass(frozen=True)
class DemoConfig:
    """The offline demo: synthetic-only, target-only and mixed training sets,
    tested on a held-out *target-style* set (our synthetic stand-in for real video)."""

    out: Path = Path("demo-out")
    per_class_synthetic: int = 30
    per_class_target: int = 30
    target_test_fraction: float = 0.5
    size: int = 160
    frames: int = 48
    seed: int = 0
    encoders: tuple[str, ...] = ("pixels", "motion")
    k: int = 3
    metric: str = "l2"
    workers: int = 2
    bootstrap: int = 1000

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        check_positive_int("per_class_synthetic", self.per_class_synthetic)
        check_positive_int("per_class_target", self.per_class_target)
        if not 0.0 < self.target_test_fraction < 1.0:
            raise ConfigError(f"target_test_fraction must be in (0, 1); got {self.target_test_fraction!r}")
        if self.per_class_target < 2:
            raise ConfigError(f"per_class_target must be >= 2 (train and test); got {self.per_class_target}")


@dataclass
class DemoSummary:
    config: DemoConfig
    #: accuracy table: encoder -> training source -> top-1 accuracy (0..1)
    accuracy: dict[str, dict[str, float]] = field(default_factory=dict)
    ci: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)
    chance: float = 0.0
    n_test: int = 0
    n_train: dict[str, int] = field(default_factory=dict)
    result_files: list[Path] = field(default_factory=list)
    report: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


def run_demo(config: DemoConfig = DemoConfig(), progress: Progress | None = None) -> DemoSummary:
    """Generate data, extract features with each encoder, run k-NN, write a report.

    Rerunning into the same folder reuses generated videos and cached features.
    """
    from ..data.manifest import load_rocog
    from ..data.sampling import SamplerConfig
    from ..encoders import create_encoder
    from .knn import run_knn
    from ..features.extract import extract_features
    from ..features.store import FeatureStore
    from ..report import write_report
    from ..synth import generate_dataset

    progress = progress or _noop
    cfg = config
    out = cfg.out
    data_root = out / "data"
    summary = DemoSummary(config=cfg)

    t0 = time.perf_counter()
    view = "ground"
    generate_dataset(
        data_root, per_class=cfg.per_class_synthetic, views=(view,), seed=cfg.seed, style="default",
        size=cfg.size, frames=cfg.frames, workers=cfg.workers, splits={"train": 1.0},
        progress=lambda d, t: progress("generate synthetic", d, t),
    )
    test_frac = cfg.target_test_fraction
    generate_dataset(
        data_root, per_class=cfg.per_class_target, views=(view,), seed=cfg.seed + 1, style="target",
        size=cfg.size, frames=cfg.frames, workers=cfg.workers, splits={"train": 1.0 - test_frac, "test": test_frac},
        progress=lambda d, t: progress("generate target", d, t),
    )
    summary.seconds["generate"] = time.perf_counter() - t0

    ann = data_root / "annotations"
    sets = {
        "synthetic": load_rocog(data_root, [ann / f"syn_{view}_train.txt"]),
        "target": load_rocog(data_root, [ann / f"tgt_{view}_train.txt"]),
        "target-test": load_rocog(data_root, [ann / f"tgt_{view}_test.txt"]),
    }
    results_dir = out / "results"
    t1 = time.perf_counter()
    for enc_name in cfg.encoders:
        encoder = create_encoder(enc_name, device="auto")
        # TSN test-mode sampling with the frame count the encoder was built for (8 for the study).
        sampler = SamplerConfig(name="tsn", num_frames=encoder.spec.num_frames, mode="test")
        stores = {}
        for set_name, manifest in sets.items():
            store_path = out / "features" / enc_name / set_name
            report = extract_features(
                # the demo owns its folder: a store from other settings or changed videos is rebuilt
                manifest, encoder, store_path, sampler=sampler, workers=cfg.workers, overwrite=True,
                progress=lambda d, t, s=set_name, e=enc_name: progress(f"extract {e}/{s}", d, t),
            )
            # a broken video fails for every encoder: list it once
            summary.skipped.extend((b.video_id, b.reason) for b in report.bad if b.video_id not in dict(summary.skipped))
            stores[set_name] = FeatureStore(store_path).load()
        test = stores["target-test"]
        summary.n_test = len(test)
        summary.chance = 1.0 / len(set(test.labels.tolist()))  # classes present in the test set
        for source in DEMO_TRAIN_SOURCES:
            train = [stores[s] for s in source.split("+")]
            summary.n_train[source] = sum(len(t) for t in train)
            outcome = run_knn(train, test, k=cfg.k, metric=cfg.metric, bootstrap=cfg.bootstrap, seed=cfg.seed,
                              out=results_dir)
            summary.result_files.append(outcome.path)
            m = outcome.doc["metrics"]
            summary.accuracy.setdefault(enc_name, {})[source] = m["accuracy"]
            if m.get("ci") is not None:
                summary.ci.setdefault(enc_name, {})[source] = (m["ci"][0], m["ci"][1])
    summary.seconds["extract+knn"] = time.perf_counter() - t1
    summary.report = write_report(results_dir, out / "report")
    summary.seconds["total"] = time.perf_counter() - t0
    return summary


def demo_table_rows(summary: DemoSummary) -> list[list[str]]:
    """Rows (encoder, then one 'acc % [CI]' cell per training source) for printing."""
    rows = []
    for enc, by_source in summary.accuracy.items():
        row = [enc]
        for source in DEMO_TRAIN_SOURCES:
            acc = by_source.get(source)
            lo, hi = summary.ci.get(enc, {}).get(source, (float("nan"), float("nan")))
            if acc is None:
                row.append("-")
            elif lo != lo:  # no bootstrap interval (bootstrap=0)
                row.append(f"{100 * acc:.1f}")
            else:
                row.append(f"{100 * acc:.1f} [{100 * lo:.0f}-{100 * hi:.0f}]")
        rows.append(row)
    return rows


__all__ = ["DemoConfig", "DemoSummary", "run_demo", "demo_table_rows", "Progress"]

