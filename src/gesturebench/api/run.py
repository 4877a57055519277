"""``run_study``: one command for the whole study (``gesturebench run CONFIG.yaml --out DIR``).

Plan: synth steps (datasets the config generates), one extraction per (encoder,
dataset) a task needs, every task's evaluations, then the report. Every step
writes atomically and is cached -- generated videos, feature-store shards,
result files (named by identity), the bench/unseen journal, the report's input
digest -- so an unchanged rerun does no work and a killed run (Ctrl-C,
``kill -9``) resumes where it stopped.

Layout of DIR: ``features/<encoder label>/<dataset>/`` stores, ``results/``
result files, ``unseen/`` runs, ``report/`` (index.html, report.md, tables.csv,
tables.tex, figures/), ``.run/journal.json``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..study.config import StudyConfig
from ..study.plan import Check, check_config, clip_seconds, plan_lines, unseen_available

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int | None], None]


@dataclass
class Step:
    kind: str
    label: str
    count: int
    unit: str
    cost_s: float
    run: Callable[[], Any] = field(repr=False, default=lambda: None)


@dataclass
class StudySummary:
    config: StudyConfig
    check: Check
    steps: list[Step]
    outcomes: list[Any] = field(default_factory=list)
    #: (step label, "done" | "cached" | "not available: ...")
    status: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    report: Path | None = None
    seconds: float = 0.0

    def plan(self) -> list[str]:
        return plan_lines(self.config, self.check, self.steps)


class _Journal:
    """``DIR/.run/journal.json``: step key -> result path, for steps without a natural cache."""

    def __init__(self, out: Path):
        import json

        self.path = out / ".run" / "journal.json"
        try:
            self.data = json.loads(self.path.read_text()) if self.path.is_file() else {}
        except ValueError:
            self.data = {}

    def get(self, key: str) -> Any:
        return self.data.get(key)

    def put(self, key: str, value: Any) -> None:
        from ..fileio import atomic_write_json

        self.data[key] = value
        atomic_write_json(self.path, self.data)


def _noop(stage: str, done: int, total: int | None) -> None:
    return None


def run_study(cfg: StudyConfig, *, dry_run: bool = False, overwrite: bool = False,
              progress: Progress | None = None) -> StudySummary:
    """Validate ``cfg``, build the plan and (unless ``dry_run``) run it; see the module docstring."""
    from ..errors import ConfigError

    progress = progress or _noop
    chk = check_config(cfg)
    runner = _Runner(cfg, overwrite, progress)
    steps = runner.plan(chk)
    summary = StudySummary(cfg, chk, steps)
    if chk.problems:
        n = len(chk.problems)
        raise ConfigError(f"{n} problem(s) in the study config:\n  " + "\n  ".join(chk.problems))
    if dry_run:
        return summary
    t0 = time.perf_counter()
    for step in steps:
        t1 = time.perf_counter()
        status = step.run()
        summary.status.append((f"{step.kind} {step.label}", status or "done"))
        log.info("%s %s: %s (%.1f s)", step.kind, step.label, status, time.perf_counter() - t1)
    summary.outcomes = runner.outcomes
    summary.skipped = runner.skipped
    summary.report = runner.report_path
    summary.seconds = time.perf_counter() - t0
    return summary


class _Runner:
    def __init__(self, cfg: StudyConfig, overwrite: bool, progress: Progress):
        self.cfg, self.overwrite, self.progress = cfg, overwrite, progress
        self.out = cfg.out
        self.results = self.out / "results"
        self.encoders: dict[str, Any] = {}
        self.outcomes: list[Any] = []
        self.skipped: list[tuple[str, str]] = []
        self.manifests: dict[str, Any] = {}
        self.report_path: Path | None = None
        self.extra_results: list[Path] = []

    # ---- helpers ------------------------------------------------------------------------
    def store(self, label: str, dataset: str) -> Path:
        return self.out / "features" / label / dataset

    def encoder(self, label: str) -> Any:
        from .extract import build_encoder

        if label not in self.encoders:
            spec = self.cfg.encoders[label]
            self.encoders[label] = build_encoder(spec.preset, spec.weights, self.cfg.device, spec.frames, spec.options)
        return self.encoders[label]

    def manifest(self, dataset: str) -> Any:
        from ..data.manifest import load_manifest

        if dataset not in self.manifests:
            ds = self.cfg.datasets[dataset]
            self.manifests[dataset] = load_manifest(ds.root, list(ds.lists))
        return self.manifests[dataset]

    # ---- plan -------------------------------------------------------------------------
    def plan(self, chk: Check) -> list[Step]:
        from ..errors import GesturebenchError

        cfg, steps = self.cfg, []
        for i, s in enumerate(cfg.synth):
            cost = s.videos * _synth_seconds(s) / max(1, cfg.workers)
            steps.append(Step("synth", f"{s.style} x{s.per_class}/class -> {s.root}", s.videos, "videos", cost,
                              lambda s=s, i=i: self.synth(s, i)))
        needed: dict[tuple[str, str], None] = {}
        for t in cfg.tasks:
            if t.kind in ("bench", "unseen"):
                continue
            for label in self.task_encoders(t):
                for ds in self.task_datasets(t):
                    needed[(label, ds)] = None
        for label, ds in needed:
            spec = cfg.encoders[label]
            try:
                per = clip_seconds(spec.preset, spec.frames)
            except GesturebenchError:
                per = 0.0
            n = chk.videos.get(ds, 0)
            steps.append(Step("extract", f"{label} / {ds} -> features/{label}/{ds}", n, "videos", n * per,
                              lambda label=label, ds=ds: self.extract(label, ds)))
        for t in cfg.tasks:
            steps += self.task_steps(t, chk)
        steps.append(Step("report", f"{self.out / 'report'}", 1, "report", 10.0, self.write_report))
        return steps

    def task_encoders(self, t: Any) -> list[str]:
        from ..encoders.registry import get_entry

        labels = list(t.params["encoders"])
        if t.kind == "zeroshot" and not t.params["explicit_encoders"]:
            labels = [lb for lb in labels if _supports_text(get_entry, self.cfg.encoders[lb].preset)]
        return labels

    @staticmethod
    def task_datasets(t: Any) -> list[str]:
        p = t.params
        names = [d for combo in p.get("train", []) for d in (combo if isinstance(combo, list) else [combo])]
        names += list(p.get("test", [])) if isinstance(p.get("test"), list) else [p["test"]] if p.get("test") else []
        names += [p["pool"]] if p.get("pool") else []
        names += list(p.get("base", []))
        return list(dict.fromkeys(names))

    def task_steps(self, t: Any, chk: Check) -> list[Step]:
        p, steps = t.params, []
        encs = self.task_encoders(t)
        if t.kind in ("knn", "probe"):
            for label in encs:
                for test in p["test"]:
                    for combo in p["train"]:
                        name = f"{t.kind} {label}: train {'+'.join(combo)}, test {test}"
                        steps.append(Step(t.kind, name, 1, "eval", 0.2 if t.kind == "knn" else 2.0,
                                          lambda t=t, label=label, combo=combo, test=test: self.classify(t, label, combo, test)))
        elif t.kind == "zeroshot":
            for label in encs:
                for test in p["test"]:
                    for prompts in p["prompts"]:
                        name = f"zeroshot {label}: test {test}, prompts {prompts or 'packaged'}"
                        steps.append(Step("zeroshot", name, 1, "eval", 1.0,
                                          lambda label=label, test=test, prompts=prompts, t=t: self.zeroshot(t, label, test, prompts)))
        elif t.kind == "fewshot":
            fits = len(p["shots"]) * p["repeats"] * (2 if p["base"] else 1)
            for label in encs:
                steps.append(Step("fewshot", f"fewshot {label}: pool {p['pool']}, test {p['test']}", fits, "fits",
                                  fits * (0.1 if p["method"] == "knn" else 1.0), lambda t=t, label=label: self.fewshot(t, label)))
        elif t.kind == "bench":
            cost = len(p["batch_sizes"]) * len(encs) * p["budget_s"] * 1.5
            steps.append(Step("bench", f"bench {', '.join(encs)}: batch {p['batch_sizes']}", len(p["batch_sizes"]),
                              "batches", cost, lambda t=t, encs=encs: self.bench(t, encs)))
        elif t.kind == "unseen":
            ok = unseen_available()
            for label in encs:
                steps.append(Step("unseen", f"unseen {label} ({p['method']})" + ("" if ok else " (not available)"), p["folds"], "folds",
                                  0.0 if not ok else 60.0 * p["folds"], lambda t=t, label=label: self.unseen(t, label)))
        return steps

    # ---- steps ------------------------------------------------------------------------
    def synth(self, s: Any, i: int) -> str:
        from dataclasses import asdict

        from ..fileio import sha256_json
        from ..synth import generate_dataset

        journal = _Journal(self.out)
        key = "synth:" + sha256_json({k: str(v) for k, v in asdict(s).items()})
        lists = journal.get(key)
        if lists and all(Path(p).is_file() for p in lists) and all(
                (s.root / line.split()[0]).is_file() for p in lists for line in Path(p).read_text().splitlines()
                if line.strip()):
            return "cached"  # every list and video this step wrote is still there: no worker pool to start
        made = generate_dataset(s.root, per_class=s.per_class, views=s.views, seed=s.seed, style=s.style, size=s.size,
                                frames=s.frames, workers=self.cfg.workers, splits=dict(s.splits),
                                progress=lambda d, t: self.progress(f"generate {s.style}", d, t))
        journal.put(key, [str(p) for p in made.lists])
        return "done" if made.generated else "cached"

    def extract(self, label: str, dataset: str) -> str:
        from ..errors import StoreError
        from .extract import run_extract

        def once(overwrite: bool) -> Any:
            return run_extract(
                None, self.encoder(label), self.store(label, dataset), manifest=self.manifest(dataset),
                frames=self.cfg.encoders[label].frames, sampler=self.cfg.extract["sampler"],
                batch_size=self.cfg.extract["batch_size"], workers=self.cfg.workers, device=self.cfg.device,
                overwrite=overwrite, progress=lambda d, t: self.progress(f"extract {label}/{dataset}", d, t),
            )

        from ..features.store import FeatureStore
        from ..fileio import sha256_json

        manifest = self.manifest(dataset)
        spec = self.cfg.encoders[label]
        # what the store's key depends on, known without building the model: a cached store costs no model load
        key = "extract:" + sha256_json({
            "encoder": [spec.preset, str(spec.weights), _weights_stat(spec.weights), spec.options, spec.frames],
            "extract": self.cfg.extract, "device": self.cfg.device, "manifest": manifest.content_hash(),
            "files": [_stat(manifest.abspath(r)) for r in manifest.records],
        })
        journal = _Journal(self.out)
        store = FeatureStore(self.store(label, dataset))
        if journal.get(key) == str(store.path) and store.is_complete():
            known = {v for v, _ in self.skipped}
            for b in store.read_meta().get("bad", []) or []:
                if isinstance(b, dict) and b.get("video_id") not in known:
                    self.skipped.append((str(b.get("video_id")), str(b.get("reason", ""))))
            return "cached"
        try:
            rep = once(False)  # cached, resumed, repaired or grown as the store allows
        except StoreError as exc:
            if "other settings" not in str(exc) and "never completed" not in str(exc):
                raise
            # the runner owns DIR/features: a store made with other settings (an edited config) is rebuilt
            log.warning("%s; rebuilding it", exc)
            rep = once(True)
        known = {v for v, _ in self.skipped}
        self.skipped += [(b.video_id, b.reason) for b in rep.bad if b.video_id not in known]
        journal.put(key, str(store.path))
        return "cached" if rep.cached else "done"

    def _record(self, outcome: Any) -> str:
        self.outcomes.append(outcome)
        return "cached" if outcome.cached else "done"

    def classify(self, t: Any, label: str, combo: Sequence[str], test: str) -> str:
        from .knn import run_knn
        from .probe import run_probe

        p, seed = t.params, self.cfg.seed
        train = [self.store(label, d) for d in combo]
        if t.kind == "knn":
            o = run_knn(train, self.store(label, test), k=p["k"], metric=p["metric"], bootstrap=p["bootstrap"], seed=seed,
                        device=self.cfg.device, out=self.results, overwrite=self.overwrite)
        else:
            o = run_probe(train, self.store(label, test), C=p["C"], weight_decay=p["weight_decay"],
                          max_iter=p["max_iter"], bootstrap=p["bootstrap"], seed=seed, device=self.cfg.device,
                          out=self.results, overwrite=self.overwrite)
        return self._record(o)

    def zeroshot(self, t: Any, label: str, test: str, prompts: str | None) -> str:
        from .zeroshot import run_zero_shot

        o = run_zero_shot(self.store(label, test), prompts=prompts, bootstrap=t.params["bootstrap"], seed=self.cfg.seed,
                          out=self.results, overwrite=self.overwrite, encoder_factory=lambda: self.encoder(label))
        return self._record(o)

    def fewshot(self, t: Any, label: str) -> str:
        from .fewshot import run_fewshot

        p = t.params
        outs = run_fewshot(self.store(label, p["pool"]), self.store(label, p["test"]),
                           base=[self.store(label, b) for b in p["base"]], shots=p["shots"], repeats=p["repeats"],
                           method=p["method"], k=p["k"], seed=self.cfg.seed, device=self.cfg.device, out=self.results,
                           overwrite=self.overwrite, progress=self.progress)
        return [self._record(o) for o in outs][-1]

    def bench(self, t: Any, encs: list[str]) -> str:
        from ..bench import BenchConfig, run_bench
        from ..bench.timer import TimerConfig
        from ..evaluators.results import write_result
        from ..fileio import sha256_json

        p = t.params
        specs = [self.cfg.encoders[e] for e in encs]
        key = "bench:" + sha256_json({"p": {k: v for k, v in p.items() if k != "explicit_encoders"},
                                      "e": [[s.preset, str(s.weights), s.options] for s in specs]})
        journal = _Journal(self.out)
        done = journal.get(key)
        if done and Path(done).is_file() and not self.overwrite:
            return "cached"
        bcfg = BenchConfig(encoders=tuple(s.preset for s in specs),
                           weights=tuple(str(s.weights) if s.weights else "default" for s in specs) if len(specs) > 1 else (),
                           batch_sizes=tuple(p["batch_sizes"]), device=self.cfg.device,
                           timer=TimerConfig(min_reps=p["min_reps"], budget_s=p["budget_s"]), seed=self.cfg.seed)
        result = run_bench(bcfg)
        path = write_result(result.to_dict(), self.results, overwrite=True)
        journal.put(key, str(path))
        return "done"

    def unseen(self, t: Any, label: str) -> str:
        import importlib
        import inspect

        if not unseen_available():
            return "not available: gesturebench.api.unseen is missing in this version"
        api = importlib.import_module("gesturebench.api.unseen")
        fn = getattr(api, "run_unseen", None) or getattr(api, "unseen", None)
        if fn is None:
            return "not available: gesturebench.api.unseen has no run_unseen"
        p, spec = t.params, self.cfg.encoders[label]
        ds = self.cfg.datasets
        out = self.out / "unseen" / label
        kwargs = {
            "data": ds[p["train"][0]].root, "root": ds[p["train"][0]].root,
            "train_lists": [x for d in p["train"] for x in ds[d].lists],
            "test_lists": [x for d in p["test"] for x in ds[d].lists],
            "encoder": spec.preset, "encoder_name": spec.preset, "weights": spec.weights, "method": p["method"],
            "unseen_classes": p["unseen_classes"], "folds": p["folds"], "split": p["split"], "shots": p["shots"],
            "seed": self.cfg.seed, "out": out, "device": self.cfg.device, "workers": self.cfg.workers,
            "encoder_options": dict(spec.options) or None, "overwrite": self.overwrite,
        }
        params = inspect.signature(fn).parameters
        res = fn(**{k: v for k, v in kwargs.items() if k in params})
        doc = out / "unseen.json"
        if doc.is_file():
            self.extra_results.append(doc)
        return "cached" if getattr(res, "cached", False) else "done"

    def write_report(self) -> str:
        from ..fileio import sha256_json
        from .report import build_report

        sources = sorted(self.results.glob("*.json")) if self.results.is_dir() else []
        sources += [p for p in self.extra_results if p.is_file()]
        sources += sorted((self.out / "unseen").glob("*/unseen.json")) if (self.out / "unseen").is_dir() else []
        sources = [p for p in dict.fromkeys(sources) if not p.name.startswith(".tmp-")]
        if not sources:
            return "nothing to report"
        from .. import __version__

        digest = sha256_json({"files": [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in sources],
                              "reference": self.cfg.reference, "name": self.cfg.name, "report": self.cfg.report, "version": __version__})
        journal = _Journal(self.out)
        report_dir = self.out / "report"
        self.report_path = report_dir / "report.md"
        if journal.get("report") == digest and (report_dir / "index.html").is_file() and not self.overwrite:
            return "cached"
        build_report(sources, report_dir, title=f"gesturebench: {self.cfg.name}", reference=self.cfg.reference,
                     figures=self.cfg.report["figures"])
        journal.put("report", digest)
        return "done"


def _stat(path: Path) -> list[int]:
    try:
        st = path.stat()
    except OSError:
        return [-1, -1]
    return [st.st_size, st.st_mtime_ns]


def _weights_stat(path: Path | None) -> list[int] | None:
    return None if path is None else _stat(path)


def _supports_text(get_entry: Any, preset: str) -> bool:
    try:
        return bool(get_entry(preset).supports_text)
    except Exception:  # unknown presets are reported by the check
        return False


def _synth_seconds(s: Any) -> float:
    """Estimated seconds per rendered video (synth_throughput.py's rate, scaled by pixels and frames)."""
    from ..study.plan import SYNTH_S_PER_VIDEO_224_64

    return SYNTH_S_PER_VIDEO_224_64 * (s.size / 224) ** 2 * (s.frames / 64)
