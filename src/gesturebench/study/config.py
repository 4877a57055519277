"""A study config: datasets, encoders and tasks, read from YAML and validated up front.

Every error names the file, the key path, the bad value and what is allowed, e.g.
``configs/demo.yaml: tasks.knn[0].metric: must be one of l2, cosine; got 'l1'``.

Strings may use ``${NAME}`` / ``${NAME:-default}`` environment variables, plus
``${OUT}`` (the ``--out`` folder) and ``${CONFIG_DIR}`` (the config's folder);
relative paths are relative to the config's folder. ``--set dotted.key=value``
overrides are applied before validation (value parsed as YAML).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, describe_yaml_error

_REQUIRED = object()
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

SYNTH_STYLES = ("default", "target")
METRICS = ("l2", "cosine")
FEWSHOT_METHODS = ("knn", "probe")
SAMPLERS = ("tsn", "uniform", "dense", "tsn-suite")


class Reader:
    """Typed access to one mapping of the config, with errors that locate the key."""

    def __init__(self, file: str, data: Any, path: str):
        self.file, self.path = file, path
        if not isinstance(data, Mapping):
            raise self.error(path, "must be a mapping", data)
        self.data = dict(data)
        self.used: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, path: str, problem: str, value: Any = _REQUIRED, allowed: Sequence[Any] | None = None) -> ConfigError:
        got = "" if value is _REQUIRED else f"; got {value!r}"
        allow = f"; allowed: {', '.join(map(str, allowed))}" if allowed else ""
        return ConfigError(f"{self.file}: {path or '<top>'}: {problem}{got}{allow}")

    def get(self, key: str, kind: Any = str, default: Any = _REQUIRED, allowed: Sequence[Any] | None = None) -> Any:
        self.used.add(key)
        if key not in self.data or self.data[key] is None and default is not _REQUIRED:
            if default is _REQUIRED:
                raise self.error(self.where(key), "is required")
            return default
        value = self.data[key]
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.error(self.where(key), "must be an integer", value)
        if kind is float and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise self.error(self.where(key), "must be a number", value)
        if kind is bool and not isinstance(value, bool):
            raise self.error(self.where(key), "must be true or false", value)
        if kind is str and not isinstance(value, str):
            raise self.error(self.where(key), "must be text", value)
        if kind is list and not isinstance(value, list):
            raise self.error(self.where(key), "must be a list", value)
        if kind is dict and not isinstance(value, Mapping):
            raise self.error(self.where(key), "must be a mapping", value)
        if allowed is not None and value not in allowed:
            raise self.error(self.where(key), f"must be one of {', '.join(map(str, allowed))}", value)
        return float(value) if kind is float else value

    def positive(self, key: str, default: Any = _REQUIRED) -> int:
        v = self.get(key, int, default)
        if v is not None and v < 1:
            raise self.error(self.where(key), "must be an integer >= 1", v)
        return v

    def sub(self, key: str) -> Reader:
        return Reader(self.file, self.get(key, dict), self.where(key))

    def done(self) -> None:
        extra = sorted(set(self.data) - self.used)
        if extra:
            raise self.error(self.where(extra[0]), "unknown key", allowed=sorted(self.used))


@dataclass(frozen=True)
class SynthSpec:
    root: Path
    style: str
    per_class: int
    views: tuple[str, ...]
    size: int
    frames: int
    seed: int
    splits: dict[str, float]

    @property
    def videos(self) -> int:
        return self.per_class * 7 * len(self.views)


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    root: Path
    lists: tuple[Path, ...]
    #: made by a synth step of this config (absent until it ran)
    generated: bool = False


@dataclass(frozen=True)
class EncoderSpec:
    label: str
    preset: str
    weights: Path | None
    options: dict[str, Any]
    frames: int | None


@dataclass(frozen=True)
class TaskSpec:
    kind: str
    index: int
    params: dict[str, Any]

    @property
    def where(self) -> str:
        return f"tasks.{self.kind}[{self.index}]"


@dataclass(frozen=True)
class StudyConfig:
    file: Path
    name: str
    out: Path
    seed: int
    workers: int
    device: str
    synth: tuple[SynthSpec, ...]
    datasets: dict[str, DatasetSpec]
    encoders: dict[str, EncoderSpec]
    extract: dict[str, Any]
    tasks: tuple[TaskSpec, ...]
    reference: dict[str, Any] | None
    #: report options: figures (bool)
    report: dict[str, Any] = field(default_factory=lambda: {"figures": True})
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


# ---- reading ------------------------------------------------------------------------------


def expand(value: Any, file: str, path: str, env: Mapping[str, str]) -> Any:
    """``${NAME}`` / ``${NAME:-default}`` in every string of ``value``."""
    if isinstance(value, str):
        def one(m: re.Match) -> str:
            name, default = m.group(1), m.group(2)
            if name in env:
                return env[name]
            if default is not None:
                return default
            raise ConfigError(f"{file}: {path}: environment variable {name} is not set (in {value!r}); "
                              f"set it or write ${{{name}:-default}}")
        return _VAR.sub(one, value)
    if isinstance(value, Mapping):
        return {k: expand(v, file, f"{path}.{k}" if path else str(k), env) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v, file, f"{path}[{i}]", env) for i, v in enumerate(value)]
    return value


def apply_overrides(data: dict[str, Any], overrides: Sequence[str], file: str) -> dict[str, Any]:
    """``["tasks.knn.k=5"]`` -> set those keys (values parsed as YAML; list items by index)."""
    import yaml

    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set must be dotted.key=value; got {item!r}")
        try:
            value = yaml.safe_load(raw)
        except yaml.YAMLError:
            value = raw
        node: Any = data
        parts = key.strip().split(".")
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                if not part.isdigit() or int(part) >= len(node):
                    raise ConfigError(f"--set {key}: {'.'.join(parts[:i]) or '<top>'} is a list of {len(node)}; "
                                      f"got index {part!r}")
                part = int(part)
            elif not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {'.'.join(parts[:i])} is not a mapping (in {file})")
            if last:
                node[part] = value
            else:
                if isinstance(node, dict) and part not in node:
                    node[part] = {}
                node = node[part]
    return data


def load_config(
    path: str | os.PathLike[str], out: str | os.PathLike[str], overrides: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> StudyConfig:
    """Read, expand, override and validate a study config."""
    import yaml

    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {file}") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config {file}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{file}: {describe_yaml_error(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{file}: must be a mapping of name, datasets, encoders, tasks; got {type(data).__name__}")
    data = apply_overrides(data, overrides, str(file))
    out = Path(out)
    data = expand(data, str(file), "", config_variables(file, out, env))
    return parse(data, file, out)


def config_variables(file: Path, out: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """What ``${NAME}`` may name in a config: the environment, ``env``, ``OUT`` and ``CONFIG_DIR``.

    ``${OUT}`` is the --out folder as the user meant it (relative to the working directory),
    made absolute so that "relative paths are relative to the config's folder" cannot move it
    beside the config file.
    """
    return {**os.environ, **(env or {}), "OUT": str(Path(out).resolve()), "CONFIG_DIR": str(file.resolve().parent)}


def _path(base: Path, text: str) -> Path:
    p = Path(os.path.expanduser(text))
    return p if p.is_absolute() else base / p


def parse(data: dict[str, Any], file: Path, out: Path) -> StudyConfig:
    f = str(file)
    base = file.resolve().parent
    top = Reader(f, data, "")
    name = top.get("name", str, file.stem)
    seed = top.get("seed", int, 0)
    workers = top.get("workers", int, 2)
    device = top.get("device", str, "auto")
    synth = []
    for i, item in enumerate(top.get("synth", list, [])):
        r = Reader(f, item, f"synth[{i}]")
        splits = r.get("splits", dict, {"train": 1.0})
        for k, v in splits.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v <= 1:
                raise r.error(f"synth[{i}].splits.{k}", "must be a fraction in (0, 1]", v)
        synth.append(SynthSpec(
            root=_path(base, r.get("root")), style=r.get("style", str, "default", SYNTH_STYLES),
            per_class=r.positive("per_class"), views=tuple(r.get("views", list, ["ground"])),
            size=r.positive("size", 224), frames=r.positive("frames", 64), seed=r.get("seed", int, seed),
            splits={str(k): float(v) for k, v in splits.items()}))
        r.done()
    synth_roots = {s.root.resolve() for s in synth}
    datasets = {}
    ds_reader = top.sub("datasets")
    for dname in list(ds_reader.data):
        r = ds_reader.sub(str(dname))
        root = _path(base, r.get("root"))
        lists = r.get("lists", list)
        if not lists or not all(isinstance(x, str) for x in lists):
            raise r.error(r.where("lists"), "must be a non-empty list of annotation files", lists)
        datasets[str(dname)] = DatasetSpec(str(dname), root, tuple(_path(root, x) for x in lists),
                                           generated=root.resolve() in synth_roots)
        r.done()
    if not datasets:
        raise top.error("datasets", "must name at least one dataset")
    encoders = {}
    enc_reader = top.sub("encoders")
    for label in list(enc_reader.data):
        item = enc_reader.data[label]
        r = Reader(f, {"preset": label} if item is None else item, f"encoders.{label}")
        weights = r.get("weights", str, None)
        encoders[str(label)] = EncoderSpec(
            label=str(label), preset=r.get("preset", str, str(label)),
            weights=_path(base, weights) if weights else None, options=dict(r.get("options", dict, {})),
            frames=r.positive("frames", None))
        r.done()
    if not encoders:
        raise top.error("encoders", "must name at least one encoder", allowed=["a preset from `gesturebench encoders list`"])
    ex = Reader(f, top.get("extract", dict, {}), "extract")
    extract = {"sampler": ex.get("sampler", str, "tsn", SAMPLERS), "batch_size": ex.positive("batch_size", 8)}
    ex.done()
    tasks = _tasks(top, f, datasets, encoders)
    rep = Reader(f, top.get("report", dict, {}), "report")
    report = {"figures": rep.get("figures", bool, True)}
    rep.done()
    ref = top.data.get("reference")
    top.used.add("reference")
    reference = None
    if ref is not None:
        from ..report.reference import load_reference

        reference = load_reference(_path(base, ref) if isinstance(ref, str) else ref)
    top.done()
    return StudyConfig(file=file, name=name, out=out, seed=seed, workers=workers, device=device, synth=tuple(synth),
                       datasets=datasets, encoders=encoders, extract=extract, tasks=tasks, reference=reference,
                       report=report, raw=data)


TASK_KINDS = ("knn", "zeroshot", "probe", "fewshot", "unseen", "bench")


def _names(r: Reader, key: str, allowed: Mapping[str, Any], default: Any = _REQUIRED, *, nested: bool = False) -> Any:
    """A dataset/encoder name or list of names (``nested``: list of lists) checked against ``allowed``."""
    value = r.data.get(key)
    r.used.add(key)
    if value is None:
        if default is _REQUIRED:
            raise r.error(r.where(key), "is required", allowed=list(allowed))
        return default
    items = value if isinstance(value, list) else [value]
    if nested:
        items = [x if isinstance(x, list) else [x] for x in items]
        flat = [y for x in items for y in x]
    else:
        flat = items
    for name in flat:
        if name not in allowed:
            raise r.error(r.where(key), "names an unknown entry", name, allowed=list(allowed))
    return items


def _tasks(top: Reader, f: str, datasets: Mapping[str, Any], encoders: Mapping[str, Any]) -> tuple[TaskSpec, ...]:
    tr = Reader(f, top.get("tasks", dict), "tasks")
    out = []
    for kind in list(tr.data):
        if kind not in TASK_KINDS:
            raise tr.error(f"tasks.{kind}", "unknown task", allowed=TASK_KINDS)
        items = tr.data[kind]
        tr.used.add(kind)
        for i, item in enumerate(items if isinstance(items, list) else [items]):
            r = Reader(f, item, f"tasks.{kind}[{i}]")
            p: dict[str, Any] = {"encoders": _names(r, "encoders", encoders, list(encoders)),
                                 "explicit_encoders": "encoders" in r.data}
            p["bootstrap"] = r.get("bootstrap", int, 1000)
            if kind in ("knn", "probe"):
                p["train"] = _names(r, "train", datasets, nested=True)
                p["test"] = _names(r, "test", datasets)
            if kind == "knn":
                p["k"] = r.positive("k", 3)
                p["metric"] = r.get("metric", str, "l2", METRICS)
            if kind == "probe":
                c = r.data.get("C", "auto")
                r.used.add("C")
                if not (c == "auto" or (isinstance(c, (int, float)) and not isinstance(c, bool) and c > 0)):
                    raise r.error(r.where("C"), "must be 'auto' or a number > 0", c)
                p["C"] = c
                p["weight_decay"] = r.get("weight_decay", float, None)
                p["max_iter"] = r.positive("max_iter", 1000)
            if kind == "zeroshot":
                p["test"] = _names(r, "test", datasets)
                prompts = r.get("prompts", list, [None])
                p["prompts"] = [x if x is None else str(_path(Path(f).resolve().parent, x)) for x in prompts]
            if kind == "fewshot":
                p["pool"] = _names(r, "pool", datasets)[0]
                p["test"] = _names(r, "test", datasets)[0]
                p["base"] = _names(r, "base", datasets, [])
                shots = r.get("shots", list, [1, 2, 5, 10])
                if not shots or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in shots):
                    raise r.error(r.where("shots"), "must be a list of integers >= 1", shots)
                p["shots"] = shots
                p["repeats"] = r.positive("repeats", 5)
                p["method"] = r.get("method", str, "knn", FEWSHOT_METHODS)
                p["k"] = r.positive("k", 3)
            if kind == "unseen":
                p["train"] = _names(r, "train", datasets)
                p["test"] = _names(r, "test", datasets)
                p["method"] = r.get("method", str, "head", ("head", "partial", "full"))
                p["unseen_classes"] = r.positive("unseen_classes", 3)
                p["folds"] = r.positive("folds", 5)
                p["shots"] = r.positive("shots", None)
                split = r.get("split", list, None)
                if split is not None and not all(isinstance(c, str) for c in split):
                    raise r.error(r.where("split"), "must be a list of class names (the unseen ones)", split)
                p["split"] = split
            if kind == "bench":
                sizes = r.get("batch_sizes", list, [1, 2, 4, 8])
                if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
                    raise r.error(r.where("batch_sizes"), "must be a list of integers >= 1", sizes)
                p["batch_sizes"] = sizes
                p["budget_s"] = r.get("budget_s", float, 2.0)
                p["min_reps"] = r.positive("min_reps", 5)
            r.done()
            out.append(TaskSpec(kind, i, p))
    tr.done()
    return tuple(out)
