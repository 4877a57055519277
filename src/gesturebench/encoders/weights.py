"""Safe, strict loading of official checkpoints into our own modules.

Rules (issue 4, section 4):

* ``.safetensors`` is read with :func:`safetensors.torch.load_file`.
* ``.pth`` / ``.pt`` / ``.bin`` go through ``torch.load(weights_only=True)``;
  a pickle that needs any global outside torch's tensor allowlist (plus
  :class:`argparse.Namespace`, which official training scripts store under
  ``args`` and whose reconstruction runs no code) is refused with
  :class:`WeightsError`. Arbitrary pickles are never executed.
* The SHA-256 of the file is returned with the state dict so every feature
  store and result can record exactly which weights produced it.
* Loading is strict by default; failures list the first few keys of each kind
  with their counts, on one line.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import WeightsError
from ..fileio import sha256_file

if TYPE_CHECKING:
    import torch

    from .registry import EncoderEntry

log = logging.getLogger(__name__)

#: file suffixes we know how to read
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt", ".bin")
#: preferred file names inside a weights folder (Hugging Face layout first)
FOLDER_CANDIDATES = ("model.safetensors", "pytorch_model.bin")
#: keys under which training scripts nest the actual state dict
WRAPPER_KEYS = ("model", "module", "state_dict", "model_state")
#: how many keys an error message shows per category
SHOW_KEYS = 5
#: what ``torch.compile`` puts in front of the names of a compiled module's parameters
COMPILE_PREFIX = "_orig_mod."


# --------------------------------------------------------------------------- files


def find_weight_file(path: str | os.PathLike[str]) -> Path:
    """``path`` itself if it is a file; for a folder, the single weight file inside it."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if not p.exists():
        raise WeightsError(f"weights path {p} does not exist")
    for name in FOLDER_CANDIDATES:
        if (p / name).is_file():
            return p / name
    found = sorted(c for c in p.iterdir() if c.is_file() and c.suffix in WEIGHT_SUFFIXES)
    if len(found) == 1:
        return found[0]
    if not found:
        raise WeightsError(
            f"no weight file in folder {p}; expected one of {', '.join(FOLDER_CANDIDATES)} "
            f"or a single *{'/*'.join(WEIGHT_SUFFIXES)} file"
        )
    names = ", ".join(c.name for c in found[:SHOW_KEYS])
    raise WeightsError(f"folder {p} holds {len(found)} weight files ({names}); pass the one you mean with --weights")


def _torch_load_safely(path: Path) -> Any:
    import pickle

    import torch

    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        m = re.search(r"GLOBAL ([\w.]+)", str(exc)) or re.search(r"global[: ]+'?([\w.]+)", str(exc))
        what = f"the global {m.group(1)}" if m else "a Python object outside the tensor allowlist"
        raise WeightsError(
            f"refusing to load {path}: the pickle needs {what}, and arbitrary pickles are never executed "
            "(convert it to .safetensors in a trusted environment)"
        ) from None
    except (RuntimeError, EOFError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"cannot read weight file {path}: {first}") from None
    except Exception as exc:  # noqa: BLE001 - a text or random file makes the unpickler fail in many ways
        raise WeightsError(
            f"cannot read weight file {path}: not a PyTorch checkpoint ({type(exc).__name__}: {str(exc)[:80]}); "
            "expected a file written by torch.save, or .safetensors"
        ) from None


def unwrap_state_dict(obj: Any, source: str = "checkpoint") -> dict[str, torch.Tensor]:
    """Find the tensor mapping inside a checkpoint and normalise its keys.

    Descends into ``model`` / ``module`` / ``state_dict`` / ``model_state`` (in
    that order of preference, repeatedly), keeps tensor values (dropping
    bookkeeping such as ``epoch``), strips a leading ``module.`` that
    DistributedDataParallel adds to every key, and removes the ``_orig_mod.``
    that a ``torch.compile``-d model puts into its keys (at the start, or after
    the name of a compiled submodule), as the official fine-tuning scripts do.
    """
    import torch

    depth = 0
    while isinstance(obj, Mapping) and depth < 4:
        inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj, depth = inner, depth + 1
    if not isinstance(obj, Mapping):
        raise WeightsError(f"{source} holds a {type(obj).__name__}, not a state dict")
    sd = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not sd:
        raise WeightsError(f"{source} holds no tensors (top-level keys: {', '.join(map(str, list(obj)[:SHOW_KEYS]))})")
    if len(sd) != len(obj):
        log.info("%s: ignored %d non-tensor entries", source, len(obj) - len(sd))
    if all(k.startswith("module.") for k in sd):
        sd = strip_prefix(sd, "module.")
    if any(COMPILE_PREFIX in k for k in sd):
        n = sum(COMPILE_PREFIX in k for k in sd)
        sd = remap_keys(sd, [(re.escape(COMPILE_PREFIX), "")])
        log.info("%s: removed the torch.compile prefix %r from %d keys", source, COMPILE_PREFIX, n)
    return sd


def load_state_dict(path: str | os.PathLike[str]) -> tuple[dict[str, torch.Tensor], str]:
    """Read a weight file (or a folder holding one) -> (state dict, sha256 of the file)."""
    f = find_weight_file(path)
    if f.suffix not in WEIGHT_SUFFIXES:
        raise WeightsError(f"weight file {f} has suffix {f.suffix!r}; allowed: {', '.join(WEIGHT_SUFFIXES)}")
    digest = sha256_file(f)
    if f.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            obj: Any = load_file(str(f), device="cpu")
        except (SafetensorError, OSError) as exc:
            raise WeightsError(f"cannot read safetensors file {f}: {exc}") from None
    else:
        obj = _torch_load_safely(f)
    return unwrap_state_dict(obj, source=str(f)), digest


# --------------------------------------------------------------------------- key surgery


def strip_prefix(sd: Mapping[str, Any], prefix: str, keep_others: bool = True) -> dict[str, Any]:
    """Remove ``prefix`` from keys that start with it; other keys kept (or dropped)."""
    out: dict[str, Any] = {}
    for k, v in sd.items():
        if k.startswith(prefix):
            out[k[len(prefix) :]] = v
        elif keep_others:
            out[k] = v
    return out


def select_prefix(sd: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """Only the keys under ``prefix``, with the prefix removed (e.g. ``encoder.`` of a pre-training file)."""
    return strip_prefix(sd, prefix, keep_others=False)


def remap_keys(sd: Mapping[str, Any], rules: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Apply regex substitutions ``(pattern, replacement)`` to every key, in order.

    A replacement of ``""`` for a full-key match drops the key. Two keys that
    map to the same name are an error (a silent overwrite would lose weights).
    """
    compiled = [(re.compile(p), r) for p, r in rules]
    out: dict[str, Any] = {}
    for k, v in sd.items():
        new = k
        for pat, rep in compiled:
            new = pat.sub(rep, new)
        if not new:
            continue
        if new in out:
            raise WeightsError(f"key remapping sends two keys to {new!r} (one of them {k!r})")
        out[new] = v
    return out


def drop_keys(sd: Mapping[str, Any], patterns: Iterable[str]) -> dict[str, Any]:
    """Keys matching any regex in ``patterns`` (``re.fullmatch``) removed."""
    pats = [re.compile(p) for p in patterns]
    return {k: v for k, v in sd.items() if not any(p.fullmatch(k) for p in pats)}


# --------------------------------------------------------------------------- strict loading


def group_keys(keys: Iterable[str]) -> str:
    """``clip_decoder.* (24), head.* (2)``: keys counted by their first name component."""
    counts: dict[str, int] = {}
    for k in keys:
        head = k.split(".", 1)[0] + (".*" if "." in k else "")
        counts[head] = counts.get(head, 0) + 1
    return ", ".join(f"{h} ({n})" for h, n in sorted(counts.items()))


def _listing(keys: Sequence[str]) -> str:
    shown = ", ".join(keys[:SHOW_KEYS])
    more = f", ... (+{len(keys) - SHOW_KEYS} more)" if len(keys) > SHOW_KEYS else ""
    return f"{shown}{more}"


@dataclass(frozen=True)
class LoadReport:
    """What happened when a state dict met a model."""

    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    #: (key, shape the model expects, shape in the file)
    shape_mismatch: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(default_factory=list)
    #: keys dropped on purpose by ``ignore`` patterns
    ignored: list[str] = field(default_factory=list)
    loaded: int = 0
    #: keys of the file removed before matching (e.g. everything outside ``encoder.`` of a pre-training file)
    dropped: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.shape_mismatch)

    def summary(self) -> str:
        """One line: counts and the first few keys of each problem."""
        parts = []
        if self.missing:
            parts.append(f"{len(self.missing)} missing ({_listing(self.missing)})")
        if self.unexpected:
            parts.append(f"{len(self.unexpected)} unexpected ({_listing(self.unexpected)})")
        if self.shape_mismatch:
            shown = [f"{k} model {list(a)} vs file {list(b)}" for k, a, b in self.shape_mismatch]
            parts.append(f"{len(self.shape_mismatch)} shape mismatches ({_listing(shown)})")
        if parts:
            return "; ".join(parts)
        unused = [*self.dropped, *self.ignored]
        tail = f"; {len(unused)} tensors of the file not used: {group_keys(unused)}" if unused else ""
        return f"all {self.loaded} tensors matched{tail}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "missing": list(self.missing),
            "unexpected": list(self.unexpected),
            "shape_mismatch": [[k, list(a), list(b)] for k, a, b in self.shape_mismatch],
            "ignored": list(self.ignored),
            "dropped": list(self.dropped),
            "loaded": self.loaded,
        }


def compare_state_dicts(
    expected: Mapping[str, Sequence[int]], found: Mapping[str, Sequence[int]], ignore: Iterable[str] = ()
) -> LoadReport:
    """Compare key -> shape mappings (the model's and the file's); no tensors needed."""
    pats = [re.compile(p) for p in ignore]
    ignored = sorted(k for k in found if any(p.fullmatch(k) for p in pats))
    found = {k: v for k, v in found.items() if k not in set(ignored)}
    missing = sorted(k for k in expected if k not in found and not any(p.fullmatch(k) for p in pats))
    unexpected = sorted(k for k in found if k not in expected)
    mism = sorted(
        (k, tuple(expected[k]), tuple(found[k]))
        for k in found
        if k in expected and tuple(expected[k]) != tuple(found[k])
    )
    return LoadReport(missing, unexpected, mism, ignored, loaded=len(found) - len(unexpected) - len(mism))


def load_into(
    model: torch.nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    strict: bool = True,
    ignore: Iterable[str] = (),
    what: str = "checkpoint",
) -> LoadReport:
    """Copy ``state_dict`` into ``model``; strict by default.

    ``ignore``: regexes (full match) for keys that may be absent from the file
    or present but unused (e.g. a classification ``head.*``). With ``strict``
    any other missing/unexpected key or any shape mismatch raises
    :class:`WeightsError` naming the first few keys and the counts. Non-strict
    loads copy what fits and return the report.
    """
    own = model.state_dict()
    report = compare_state_dicts(
        {k: tuple(v.shape) for k, v in own.items()}, {k: tuple(v.shape) for k, v in state_dict.items()}, ignore
    )
    if strict and not report.ok:
        raise WeightsError(f"{what} does not fit {type(model).__name__}: {report.summary()}")
    bad = {k for k, _, _ in report.shape_mismatch} | set(report.ignored) | set(report.unexpected)
    usable = {k: v for k, v in state_dict.items() if k not in bad}
    model.load_state_dict(usable, strict=False)
    return report


# --------------------------------------------------------------------------- position embeddings


def sinusoid_table(num_positions: int, dim: int) -> torch.Tensor:
    """The fixed 1-D sine/cosine table of VideoMAE/UMT: (num_positions, dim), float32.

    Channel ``j`` uses frequency ``10000 ** (-2 * (j // 2) / dim)``; even
    channels take the sine, odd channels the cosine (interleaved, as in the
    official ``get_sinusoid_encoding_table``).
    """
    import torch

    pos = torch.arange(num_positions, dtype=torch.float64).unsqueeze(1)
    j = torch.arange(dim, dtype=torch.float64)
    exponent = 2 * torch.div(j, 2, rounding_mode="floor") / dim
    angle = pos / torch.pow(torch.tensor(10000.0, dtype=torch.float64), exponent)
    table = torch.empty_like(angle)
    table[:, 0::2] = torch.sin(angle[:, 0::2])
    table[:, 1::2] = torch.cos(angle[:, 1::2])
    return table.float()


def interpolate_pos_embed(
    pos_embed: torch.Tensor,
    src_grid: tuple[int, int, int],
    dst_grid: tuple[int, int, int],
    num_extra_tokens: int = 0,
    kind: str = "learned",
) -> torch.Tensor:
    """Resize a (1, N, D) or (N, D) patch position embedding from one token grid to another.

    Grids are ``(t, h, w)`` in tokens. ``kind="learned"``: the spatial part is
    resized bicubically and the temporal part linearly (the common practice of
    the official fine-tuning scripts); leading ``num_extra_tokens`` (CLS) are
    kept as they are. ``kind="sinusoid"``: a fixed table cannot be resized
    meaningfully, so it is regenerated for the new token count. Any other kind,
    or a table whose length does not match ``src_grid``, is refused.
    """
    import torch
    import torch.nn.functional as F

    if kind not in ("learned", "sinusoid"):
        raise WeightsError(f"position embedding kind must be one of learned, sinusoid; got {kind!r}")
    batched = pos_embed.ndim == 3
    pe = pos_embed[0] if batched else pos_embed
    if pe.ndim != 2:
        raise WeightsError(f"position embedding must be (N, D) or (1, N, D); got {tuple(pos_embed.shape)}")
    n_src = math.prod(src_grid)
    if pe.shape[0] != n_src + num_extra_tokens:
        raise WeightsError(
            f"position embedding has {pe.shape[0]} rows but grid {src_grid} + {num_extra_tokens} extra tokens "
            f"needs {n_src + num_extra_tokens}; refusing to guess its layout"
        )
    if tuple(src_grid) == tuple(dst_grid):
        return pos_embed
    dim = pe.shape[1]
    extra, grid = pe[:num_extra_tokens], pe[num_extra_tokens:]
    if kind == "sinusoid":
        new = sinusoid_table(math.prod(dst_grid), dim).to(pe.dtype)
    else:
        t0, h0, w0 = src_grid
        t1, h1, w1 = dst_grid
        x = grid.float().reshape(t0, h0, w0, dim)
        if (h0, w0) != (h1, w1):
            x = F.interpolate(x.permute(0, 3, 1, 2), size=(h1, w1), mode="bicubic", align_corners=False)
            x = x.permute(0, 2, 3, 1)
        if t0 != t1:
            y = x.permute(1, 2, 3, 0).reshape(1, h1 * w1 * dim, t0)
            y = F.interpolate(y, size=t1, mode="linear", align_corners=False)
            x = y.reshape(h1, w1, dim, t1).permute(3, 0, 1, 2)
        new = x.reshape(t1 * h1 * w1, dim).to(pe.dtype)
    out = torch.cat([extra, new], dim=0)
    return out.unsqueeze(0) if batched else out


# --------------------------------------------------------------------------- where the file is


def resolve_weights(entry: EncoderEntry, weights: str | os.PathLike[str] | None) -> Path:
    """The weight file/folder to use for ``entry``.

    An explicit ``weights`` path must exist. Otherwise the preset's local copy
    (``$GESTUREBENCH_WEIGHTS/<weights_file>``) is used; if there is none, one
    line says where to download it and how to pass it.
    """
    if weights is not None:
        p = Path(weights).expanduser()
        if not p.exists():
            raise WeightsError(f"weights for {entry.name}: {p} does not exist (given with --weights)")
        return p
    local = entry.local_weights()
    if local is not None:
        return local
    source = entry.source or entry.hub_id or "the official release"
    fname = entry.weights_file or entry.name
    raise WeightsError(
        f"weights for {entry.name} not found; download {source} and pass --weights PATH "
        f"(or put it in $GESTUREBENCH_WEIGHTS/{fname})"
    )
