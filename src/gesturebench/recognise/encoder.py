"""Rebuild the encoder a feature store was made with, and prove it is the same function.

A feature store records its encoder's *identity* (name, class, version, input spec, options
where the encoder reports them, weight SHA-256) but not how to build it again (weight path,
factory options). ``fit`` takes those from the user, builds the encoder, and accepts the
recipe only if the rebuilt encoder's identity equals the stored one; ``predict`` and ``serve``
repeat the check, so a recogniser can never encode queries with other weights or settings
than its index.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, EncoderError, RecogniserError

if TYPE_CHECKING:
    from ..encoders.base import Encoder


def _build(name: str, weights: str | None, device: str, options: dict[str, Any], num_frames: int) -> Encoder:
    from ..encoders.registry import create_encoder, get_entry

    opts = dict(options)
    entry = get_entry(name)
    if num_frames != entry.spec.num_frames and "num_frames" not in opts:
        try:
            return create_encoder(name, weights=weights, device=device, **opts, num_frames=num_frames)
        except (TypeError, ConfigError, EncoderError):
            pass  # encoders that take any frame count are built as they are
    return create_encoder(name, weights=weights, device=device, **opts)


def _identity_diff(stored: dict[str, Any], enc: Encoder) -> list[str]:
    from ..features.store import diff_settings

    return diff_settings(stored, enc.identity())


def encoder_recipe(
    identity: dict[str, Any],
    num_frames: int,
    weights: str | os.PathLike[str] | None = None,
    options: dict[str, Any] | None = None,
    device: str = "cpu",
) -> tuple[dict[str, Any], Encoder]:
    """Build the encoder of a store's ``identity``; return ``(recipe, encoder)``.

    ``options`` default to the ``options`` the identity reports (training-free encoders
    record theirs). Raises :class:`RecogniserError` naming the settings that differ.
    """
    name = str(identity.get("name") or "")
    if not name:
        raise RecogniserError("the training store does not name its encoder")
    opts = dict(options) if options else dict(identity.get("options") or {})
    wpath = str(Path(weights).resolve()) if weights is not None else None
    enc = _build(name, wpath, device, opts, num_frames)
    changed = _identity_diff(identity, enc)
    if changed:
        hint = (
            "pass --weights with the file the stores were extracted with"
            if any(c.startswith("weights_sha256") for c in changed)
            else "pass the --encoder-opt values the stores were extracted with"
        )
        raise RecogniserError(
            f"encoder {name!r} built here differs from the one the training stores were extracted with "
            f"({', '.join(changed[:6])} differ); {hint}"
        )
    if enc.spec.num_frames != num_frames and not getattr(enc, "accepts_any_num_frames", False):
        raise RecogniserError(f"encoder {name!r} takes {enc.spec.num_frames} frames, the stores used {num_frames}")
    recipe = {"name": name, "options": opts, "weights": wpath, "weights_sha256": identity.get("weights_sha256")}
    return recipe, enc


def rebuild_encoder(meta: dict[str, Any], device: str = "cpu", weights: str | os.PathLike[str] | None = None) -> Encoder:
    """The encoder of a recogniser model's metadata, verified against its recorded identity.

    ``weights`` overrides the recorded weight path (the model folder moved machines); the
    SHA-256 check still applies.
    """
    enc_meta = meta["encoder"]
    path = weights if weights is not None else enc_meta.get("weights")
    if path is not None and not Path(path).exists():
        raise RecogniserError(
            f"the recogniser's encoder weights {path} are not there; pass --weights with that file "
            f"(SHA-256 {str(enc_meta.get('weights_sha256'))[:12]}...)"
        )
    enc = _build(enc_meta["name"], str(path) if path is not None else None, device,
                 dict(enc_meta.get("options") or {}), int(meta["sampler"]["num_frames"]))
    changed = _identity_diff(enc_meta["identity"], enc)
    if changed:
        raise RecogniserError(
            f"encoder {enc_meta['name']!r} built here differs from the recogniser's ({', '.join(changed[:6])} differ); "
            "was gesturebench or the weight file changed since `gesturebench fit`?"
        )
    return enc
