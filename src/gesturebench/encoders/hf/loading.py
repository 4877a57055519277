"""Where Hugging Face weights come from, and what they are.

Every HF model is loaded from a *local directory* (``config.json`` + weight
files): either the one the user passes with ``--weights DIR``, the preset's
folder under ``$GESTUREBENCH_WEIGHTS``, or the hub snapshot for the preset's
``hub_id`` (from the Hugging Face cache, downloading it when online). Any
failure on the way becomes one :class:`WeightsError` line saying where to get
the weights and how to pass them; ``HF_HUB_OFFLINE=1`` means the cache is
consulted and the network never is.

The checksum recorded for a model is the SHA-256 of its weight file when there
is one, or, for sharded checkpoints, the SHA-256 of the lines
``"<file name> <file sha256>\\n"`` over the shards in name order.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import WeightsError
from ...fileio import sha256_file
from ..base import InputSpec

if TYPE_CHECKING:
    from ..registry import EncoderEntry

log = logging.getLogger(__name__)

#: a weights argument with this prefix names a hub repository instead of a path
HUB_PREFIX = "hf:"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_TRUE = ("1", "true", "yes", "on")


def hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value, read now."""
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def _how_to_get(entry: EncoderEntry, hub_id: str | None) -> str:
    if hub_id:
        return (
            f"download it with `huggingface-cli download {hub_id} --local-dir DIR` "
            f"(https://huggingface.co/{hub_id}) and pass --weights DIR"
        )
    return f"download {entry.source or 'the checkpoint'} into a folder and pass --weights DIR"


def resolve_hf_dir(entry: EncoderEntry, weights: str | os.PathLike[str] | None) -> Path:
    """The local directory holding ``entry``'s config and weights.

    ``weights``: a directory (or a file inside one), ``hf:<org>/<name>`` for a
    hub repository, or None for the preset's own source (local copy first,
    then the hub).
    """
    hub_id = entry.hub_id
    if weights is not None:
        text = os.fspath(weights)
        if text.startswith(HUB_PREFIX):
            hub_id = text[len(HUB_PREFIX) :].strip("/")
            if not _HUB_ID.match(hub_id):
                raise WeightsError(f"weights for {entry.name}: {text!r} is not a hub id of the form hf:org/name")
            return _snapshot(entry, hub_id)
        p = Path(text).expanduser()
        if p.is_file():
            p = p.parent
        if not p.is_dir():
            raise WeightsError(
                f"weights for {entry.name}: directory {p} does not exist; {_how_to_get(entry, hub_id)}"
            )
        return p
    local = entry.local_weights()
    if local is not None:
        return local if local.is_dir() else local.parent
    if not hub_id:
        raise WeightsError(f"weights for {entry.name} not found; {_how_to_get(entry, None)}")
    return _snapshot(entry, hub_id)


def cached_snapshot(hub_id: str) -> Path | None:
    """The Hugging Face cache's snapshot folder of ``hub_id`` if its config is cached (no network).

    For listings ("weights available locally?"); loading goes through :func:`resolve_hf_dir`.
    """
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return None
    try:
        hit = try_to_load_from_cache(hub_id, "config.json")
    except Exception:  # a malformed id or cache: simply "not cached"
        return None
    return Path(hit).parent if isinstance(hit, (str, os.PathLike)) else None


def _snapshot(entry: EncoderEntry, hub_id: str) -> Path:
    """The hub snapshot of ``hub_id`` (config, processor files, weights) as a local directory."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:  # pragma: no cover - transformers depends on it
        raise WeightsError(
            f"weights for {entry.name}: huggingface_hub is not installed; {_how_to_get(entry, hub_id)}"
        ) from None
    offline = hub_offline()
    meta = ["*.json", "*.txt", "*.model"]
    try:
        path = Path(snapshot_download(hub_id, allow_patterns=[*meta, "*.safetensors"], local_files_only=offline))
        if not any(path.glob("*.safetensors")):
            # Older repositories only have PyTorch pickles (read with weights_only=True later).
            path = Path(snapshot_download(hub_id, allow_patterns=[*meta, "*.bin"], local_files_only=offline))
    except Exception as exc:  # network, auth, missing repo, missing cache: all one line for the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        where = (
            "HF_HUB_OFFLINE=1 and it is not in the Hugging Face cache"
            if offline
            else f"the hub could not be reached or refused ({type(exc).__name__}: {first})"
        )
        raise WeightsError(f"weights for {entry.name} ({hub_id}) not available: {where}; {_how_to_get(entry, hub_id)}") from None
    return path


def weight_files(directory: Path, entry_name: str = "model") -> tuple[list[Path], bool]:
    """The weight files transformers will read from ``directory`` and whether they are safetensors."""
    if not (directory / "config.json").is_file():
        raise WeightsError(
            f"weights for {entry_name}: {directory} has no config.json; pass the folder of a "
            "Hugging Face checkpoint (as written by save_pretrained / huggingface-cli download)"
        )
    # transformers reads model.safetensors (or its shards) only; other .safetensors files beside it
    # (a fine-tuning run's head.safetensors) are not part of the checkpoint
    safe = sorted(directory.glob("model*.safetensors"))
    if safe:
        return safe, True
    pickles = sorted(directory.glob("pytorch_model*.bin"))
    if pickles:
        return pickles, False
    raise WeightsError(
        f"weights for {entry_name}: no model*.safetensors or pytorch_model*.bin in {directory}"
    )


def files_sha256(files: list[Path]) -> str:
    """SHA-256 of one file, or of ``name sha\\n`` lines over several (sharded checkpoints)."""
    if len(files) == 1:
        return sha256_file(files[0])
    h = hashlib.sha256()
    for f in sorted(files, key=lambda p: p.name):
        h.update(f"{f.name} {sha256_file(f)}\n".encode())
    return h.hexdigest()


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise WeightsError(f"cannot read {path}: {exc}") from None


def _side(value: Any, key: str) -> int | None:
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        for k in (key, "shortest_edge", "height"):
            if isinstance(value.get(k), int):
                return value[k]
    return None


def spec_from_processor(
    directory: Path, default: InputSpec, num_frames: int, size: int, tubelet: int, offset_default: bool = False
) -> InputSpec:
    """The input spec a checkpoint expects: frames/size/tubelet from its model config, normalisation
    and crop from its ``preprocessor_config.json`` / ``video_preprocessor_config.json`` (the preset's
    catalogue values where the file is absent).

    Processors compute ``(x * rescale_factor - offset - mean) / std`` on 0..255 pixels; with
    ``u = x / 255`` that is ``(u - m') / s'`` where ``m' = (offset + mean) / (255 * rescale_factor)``
    and ``s' = std / (255 * rescale_factor)``, which is what :class:`InputSpec` stores. ViViT's
    processor subtracts ``offset = 1`` after rescaling by 1/127.5.
    """
    cfg: dict[str, Any] = {}
    for name in ("video_preprocessor_config.json", "preprocessor_config.json"):
        if (directory / name).is_file():
            cfg = read_json(directory / name)
            break
    mean, std, crop_ratio, recipe = default.mean, default.std, default.crop_ratio, default.preprocess
    if cfg:
        if recipe.startswith("transformers"):  # the processor's own resampling filter (PIL codes)
            recipe = {2: "transformers", 3: "transformers-bicubic"}.get(cfg.get("resample"), recipe)
        normalize = cfg.get("do_normalize", True)
        m = cfg.get("image_mean", list(default.mean)) if normalize else [0.0, 0.0, 0.0]
        s = cfg.get("image_std", list(default.std)) if normalize else [1.0, 1.0, 1.0]
        if isinstance(m, (int, float)):
            m = [m] * 3
        if isinstance(s, (int, float)):
            s = [s] * 3
        rescale = float(cfg.get("rescale_factor", 1 / 255)) if cfg.get("do_rescale", True) else 1.0
        offset = 1.0 if cfg.get("offset", offset_default) and cfg.get("do_rescale", True) else 0.0
        k = 255.0 * rescale
        mean = tuple((offset + float(a)) / k for a in m)
        std = tuple(float(b) / k for b in s)
        crop = _side(cfg.get("crop_size"), "height") if cfg.get("do_center_crop", True) else None
        short = _side(cfg.get("size"), "shortest_edge")
        if crop and short and crop <= short:
            crop_ratio = crop / short
    return replace(default, num_frames=num_frames, size=size, tubelet=tubelet, mean=mean, std=std, crop_ratio=crop_ratio,
                   preprocess=recipe)
