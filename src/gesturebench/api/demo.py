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
from typing import Any

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
        object.__setattr__(self, "encoders", tuple(self.encoders))
        if not self.encoders:
            raise ConfigError("encoders must name at least one encoder (e.g. pixels,motion; "
                              "see `gesturebench encoders list`); got none")
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


DEMO_CONFIG = "demo.yaml"


def demo_config_path() -> Path:
    """The packaged ``configs/demo.yaml`` (the repository's ``configs/demo.yaml`` links to it)."""
    from importlib.resources import files

    return Path(str(files("gesturebench") / "configs" / DEMO_CONFIG))


def demo_study_config(config: DemoConfig) -> Any:
    """``configs/demo.yaml`` with the fields of ``config`` filled in: the demo *is* this config run."""
    import yaml

    from ..study.config import config_variables, expand, parse

    path = demo_config_path()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    syn, tgt = data["synth"]
    for spec, per_class, seed in ((syn, config.per_class_synthetic, config.seed), (tgt, config.per_class_target, config.seed + 1)):
        spec.update(per_class=per_class, size=config.size, frames=config.frames, seed=seed)
    tgt["splits"] = {"train": 1.0 - config.target_test_fraction, "test": config.target_test_fraction}
    data.update(seed=config.seed, workers=config.workers)
    data["encoders"] = {name: {"preset": name} for name in config.encoders}
    data["tasks"]["knn"].update(k=config.k, metric=config.metric, bootstrap=config.bootstrap)
    data = expand(data, str(path), "", config_variables(path, config.out))
    return parse(data, path, config.out)


def run_demo(config: DemoConfig = DemoConfig(), progress: Progress | None = None) -> DemoSummary:
    """Generate data, extract features with each encoder, run k-NN, write a report (a run of configs/demo.yaml).

    Rerunning into the same folder reuses generated videos, cached features and results.
    """
    from .run import run_study

    cfg = config
    summary = DemoSummary(config=cfg)
    t0 = time.perf_counter()
    study = run_study(demo_study_config(cfg), progress=progress)
    for o in study.outcomes:
        doc = o.doc
        enc, source = doc["encoder"], doc["train"]["source"]
        m = doc["metrics"]
        summary.result_files.append(o.path)
        summary.accuracy.setdefault(enc, {})[source] = m["accuracy"]
        if m.get("ci") is not None:
            summary.ci.setdefault(enc, {})[source] = (m["ci"][0], m["ci"][1])
        summary.n_train[source] = doc["train"]["n"]
        summary.n_test = doc["test"]["n"]
        summary.chance = m["chance"]  # 1 / classes present in the test set
    summary.skipped = list(study.skipped)
    summary.report = study.report
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


__all__ = ["DemoConfig", "DemoSummary", "run_demo", "demo_study_config", "demo_table_rows", "Progress"]

