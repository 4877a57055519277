"""Lazy encoder registry: ``name -> "module:factory"`` plus metadata.

Entries are plain data declared in light *catalogue* modules (no torch, no
model code). Nothing is imported until :func:`create_encoder` asks for it.
Names are unique; :func:`list_encoders` takes shell-style wildcards.

A factory is called as ``factory(entry, weights=path_or_None, **entry.kwargs, **overrides)``
and returns an :class:`~gesturebench.encoders.base.Encoder`.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import EncoderError
from .base import Encoder, InputSpec

#: Catalogue modules, imported (cheaply) the first time the registry is read.
CATALOG_MODULES = (
    "gesturebench.encoders.basic.catalog",
    "gesturebench.encoders.hf.catalog",
    "gesturebench.encoders.umt.catalog",
    "gesturebench.encoders.viclip.catalog",
    "gesturebench.encoders.videomae_v2.catalog",
)


@dataclass(frozen=True)
class EncoderEntry:
    """A named preset: architecture + weights + preprocessing, kept together."""

    name: str
    target: str  # "package.module:factory"
    spec: InputSpec
    feature_dim: int
    family: str
    description: str = ""
    pooling: str = ""
    source: str = ""  # where the weights come from (URL / hub id / "training-free")
    license: str = ""
    params_m: float | None = None  # millions of parameters
    gflops: float | None = None  # per clip at spec's input size
    weights_file: str | None = None  # expected local file name (None: no weights or hub-only)
    hub_id: str | None = None  # Hugging Face hub id where applicable
    supports_text: bool = False
    test_only: bool = False  # tiny random configurations for tests
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if ":" not in self.target:
            raise EncoderError(f"encoder {self.name!r}: target must be 'module:attr'; got {self.target!r}")

    def needs_weights(self) -> bool:
        return self.weights_file is not None or self.hub_id is not None

    def local_weights(self) -> Path | None:
        """A weight file/folder for this preset already on disk, or None.

        Looks in ``$GESTUREBENCH_WEIGHTS`` (default ``~/.cache/gesturebench/weights``)
        for ``weights_file`` or a folder named after the preset.
        """
        base = Path(os.environ.get("GESTUREBENCH_WEIGHTS", Path.home() / ".cache" / "gesturebench" / "weights"))
        for cand in ([base / self.weights_file] if self.weights_file else []) + [base / self.name]:
            if cand.exists():
                return cand
        return None


_REGISTRY: dict[str, EncoderEntry] = {}
_loaded = False


def register(entry: EncoderEntry) -> EncoderEntry:
    """Add a preset. A second entry with the same name is refused."""
    if entry.name in _REGISTRY:
        raise EncoderError(f"encoder name {entry.name!r} is already registered ({_REGISTRY[entry.name].target})")
    _REGISTRY[entry.name] = entry
    return entry


def _ensure_loaded() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for mod in CATALOG_MODULES:
        importlib.import_module(mod)


def list_encoders(pattern: str = "*", include_test: bool = True) -> list[EncoderEntry]:
    """Entries whose name matches ``pattern`` (fnmatch wildcards), sorted by name."""
    _ensure_loaded()
    return [
        e
        for name, e in sorted(_REGISTRY.items())
        if fnmatch.fnmatchcase(name, pattern) and (include_test or not e.test_only)
    ]


def get_entry(name: str) -> EncoderEntry:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise EncoderError(
            f"unknown encoder {name!r}{hint} (see `gesturebench encoders list`)"
        ) from None


def create_encoder(
    name: str, weights: str | os.PathLike[str] | None = None, device: str = "auto", **overrides: Any
) -> Encoder:
    """Build the preset ``name`` on ``device`` (``auto``: CUDA when present).

    ``preprocess=RECIPE`` (``--encoder-opt preprocess=gesturebench``) is taken here, not by the
    factory: it swaps the resize/crop recipe of the preset's input spec (see
    :mod:`gesturebench.encoders.recipes`), which every encoder accepts.
    """
    from dataclasses import replace

    from ..runtime import resolve_device

    entry = get_entry(name)
    recipe = overrides.pop("preprocess", None)
    if recipe is not None:
        from .recipes import RECIPES

        if recipe not in RECIPES:
            raise EncoderError(
                f"encoder {name!r}: unknown preprocess recipe {recipe!r}; allowed: {', '.join(RECIPES)}"
            )
    module_name, _, attr = entry.target.partition(":")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise EncoderError(f"encoder {name!r} cannot be loaded from {entry.target}: {exc}") from exc
    if overrides:
        _check_options(entry, factory, overrides)
    encoder = factory(entry, weights=weights, **{**entry.kwargs, **overrides})
    encoder.name = entry.name
    if recipe is not None:
        encoder.spec = replace(encoder.spec, preprocess=recipe)
    return encoder.to(resolve_device(device))


def _check_options(entry: EncoderEntry, factory: Any, overrides: dict[str, Any]) -> None:
    """Refuse overrides the factory's signature cannot take, naming those it can.

    The factory's first parameter (the entry) and ``weights`` are never options.
    Factories with ``**kwargs`` check the rest of their options themselves.
    """
    import inspect

    try:
        first, *params = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):  # pragma: no cover - callables without a signature
        return
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    allowed = [p.name for p in params if p.kind in keyword and p.name != "weights"]
    open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params)
    bad = sorted(k for k in overrides if k not in allowed and (not open_ended or k == first.name))
    if bad:
        raise EncoderError(
            f"encoder {entry.name!r} does not accept option(s) {', '.join(bad)}; "
            f"allowed: {', '.join(allowed) or 'none'}{', ...' if open_ended else ''}"
        )
