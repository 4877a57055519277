"""ViCLIP as a gesturebench encoder: official checkpoint -> strict load -> video/text embeddings.

Features: the vision tower's projected CLS embedding, L2-normalised (the official
``get_vid_features``), so k-NN with L2 distance ranks like cosine similarity and
:meth:`ViCLIPEncoder.encode_text` (also L2-normalised, the official
``get_text_features``) lives in the same space: zero-shot scores are plain dot
products. ``normalize=False`` returns the raw projection instead.
"""

from __future__ import annotations

import logging
import os
from dataclasses import fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError, EncoderError, WeightsError, check_choice
from ..torch_encoder import TorchEncoder
from .tokenizer import load_clip_tokenizer, missing_tokenizer_message, tokenize

if TYPE_CHECKING:
    import torch

    from ..base import InputSpec
    from ..registry import EncoderEntry
    from .model import ViCLIP

log = logging.getLogger(__name__)

SIZES = ("b16", "l14")
TEMPORAL_KEY = "vision_encoder.temporal_positional_embedding"
SPATIAL_KEY = "vision_encoder.positional_embedding"
#: prefixes some re-exports put in front of the official keys (removed when *every* key has one)
EXPORT_PREFIXES = ("model.", "viclip.")


class ViCLIPEncoder(TorchEncoder):
    supports_text = True

    def __init__(
        self,
        model: ViCLIP,
        spec: InputSpec,
        weights_sha256: str | None,
        tokenizer_path: Path | None = None,
        normalize: bool = True,
    ) -> None:
        super().__init__(model, weights_sha256)
        self.spec = spec
        self.feature_dim = model.cfg.embed_dim
        self.normalize = normalize
        self.tokenizer_path = tokenizer_path
        self._tokenizer: Any = None

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        if clips.ndim != 5 or clips.shape[2] != 3:
            raise EncoderError(f"{self.name}: clips must be (B, T, 3, H, W) (layout TCHW); got {tuple(clips.shape)}")
        out = self.model.vision_encoder(clips)
        return F.normalize(out.float(), dim=-1) if self.normalize else out

    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            if self.tokenizer_path is None:
                raise WeightsError(missing_tokenizer_message(self.name, None))
            self._tokenizer = load_clip_tokenizer(self.tokenizer_path, self.name)
        return self._tokenizer

    def encode_token_ids(self, ids: torch.Tensor) -> torch.Tensor:
        """Text embeddings (N, D) for official-format token ids (N, <= context length)."""
        import torch
        import torch.nn.functional as F

        if ids.ndim != 2 or ids.shape[1] > self.model.cfg.context_length:
            raise EncoderError(
                f"{self.name}: token ids must be (N, L<={self.model.cfg.context_length}); got {tuple(ids.shape)}"
            )
        with torch.inference_mode():
            out = self.model.text_encoder(ids.to(self.device)).float()
        return F.normalize(out, dim=-1) if self.normalize else out

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        ids = tokenize(self.tokenizer(), list(texts), self.model.cfg.context_length)
        return self.encode_token_ids(ids)

    def identity(self) -> dict[str, Any]:
        out = super().identity()
        out["pooling"] = "cls-proj-l2" if self.normalize else "cls-proj"
        return out


def _has_tokenizer(folder: Path) -> bool:
    return (
        any(folder.glob("bpe_simple_vocab*.txt*"))
        or (folder / "tokenizer.json").is_file()
        or (folder / "vocab.json").is_file()
    )


def _find_tokenizer(weights_path: Path) -> Path | None:
    """A CLIP vocabulary beside the weights, else in ``$GESTUREBENCH_WEIGHTS`` (shared by all presets)."""
    folder = weights_path if weights_path.is_dir() else weights_path.parent
    if _has_tokenizer(folder):
        return folder
    base = Path(os.environ.get("GESTUREBENCH_WEIGHTS", Path.home() / ".cache" / "gesturebench" / "weights"))
    if base.is_dir() and any(base.glob("bpe_simple_vocab*.txt*")):
        return base
    return None


def build_config(size: str, config: dict[str, Any] | None = None):
    """The architecture of ``size`` with ``config`` field overrides (tiny test models)."""
    from .model import VICLIP_B16, VICLIP_L14, ViCLIPConfig

    check_choice("ViCLIP size", size, SIZES)
    base = VICLIP_B16 if size == "b16" else VICLIP_L14
    if not config:
        return base
    allowed = [f.name for f in fields(ViCLIPConfig)]
    for k in config:
        check_choice("ViCLIP config field", k, allowed)
    return replace(base, **config)


def build_model(cfg, device: str = "cpu") -> ViCLIP:
    """Our ViCLIP with uninitialised storage on ``device`` (the checkpoint fills every tensor)."""
    import torch

    from .model import ViCLIP

    with torch.device("meta"):
        model = ViCLIP(cfg)
    return model.to_empty(device=device)


def prepare_state_dict(
    sd: dict[str, torch.Tensor], num_frames: int | None, grid: int | None = None
) -> dict[str, torch.Tensor]:
    """Official checkpoint tensors -> our module's keys (documented remapping).

    Our names equal the official ones, so the only changes are: a re-export prefix
    (``model.`` / ``viclip.``) present on every key is removed; the temporal position
    embedding is adapted when ``num_frames`` differs from the checkpoint's (official
    rule: keep the first rows, or interpolate linearly when growing); a missing ``temp``
    (training-only contrastive temperature) is set to its initial 0.01; and, when a
    patch ``grid`` is requested (``image_size`` given), the spatial position embedding is
    resized bicubically as the official loader does (CLS row kept).
    """
    from ..weights import interpolate_pos_embed
    from .model import resize_temporal_embedding

    for prefix in EXPORT_PREFIXES:
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix) :]: v for k, v in sd.items()}
    sd = dict(sd)
    if "temp" not in sd and any(k.startswith("vision_encoder.") for k in sd):
        # The contrastive temperature is training state and unused for features; some exports drop it.
        import torch

        sd["temp"] = torch.tensor(0.01)
    if num_frames is not None and TEMPORAL_KEY in sd:
        sd[TEMPORAL_KEY] = resize_temporal_embedding(sd[TEMPORAL_KEY], num_frames)
    pos = sd.get(SPATIAL_KEY)
    if grid is not None and pos is not None and pos.ndim == 2:
        g0 = int(round((pos.shape[0] - 1) ** 0.5))
        if g0 * g0 + 1 == pos.shape[0] and g0 != grid:
            sd[SPATIAL_KEY] = interpolate_pos_embed(pos, (1, g0, g0), (1, grid, grid), num_extra_tokens=1)
    return sd


def create_viclip_encoder(
    entry: EncoderEntry,
    weights: str | os.PathLike[str] | None = None,
    size: str = "b16",
    tokenizer: str | os.PathLike[str] | None = None,
    num_frames: int | None = None,
    normalize: bool = True,
    config: dict[str, Any] | None = None,
    image_size: int | None = None,
) -> ViCLIPEncoder:
    """Load a ViCLIP checkpoint strictly.

    ``weights``: the official ``.pth`` (state dict under ``model``), a ``.safetensors``
    conversion, or a folder holding one. ``tokenizer``: CLIP BPE vocabulary for
    :meth:`~ViCLIPEncoder.encode_text` (default: looked for beside the weights).
    ``num_frames``: frames per clip (default: the checkpoint's, 8). ``image_size``: input side
    in pixels (default 224); the spatial position embedding is interpolated to it. Without it
    a checkpoint whose grid differs from the architecture is refused by the strict load.
    """
    from ..weights import load_into, load_state_dict, resolve_weights

    if num_frames is not None and (isinstance(num_frames, bool) or not isinstance(num_frames, int) or num_frames < 1):
        raise ConfigError(f"num_frames for {entry.name} must be an integer >= 1; got {num_frames!r}")
    if image_size is not None and (isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1):
        raise ConfigError(f"image_size for {entry.name} must be an integer >= 1; got {image_size!r}")
    overrides = dict(config or {})
    if image_size is not None:
        overrides["image_size"] = image_size
    arch = build_config(size, overrides)
    if image_size is not None and image_size % arch.patch_size:
        raise ConfigError(f"image_size for {entry.name} must be a multiple of the patch size {arch.patch_size}; got {image_size}")
    path = resolve_weights(entry, weights)
    raw, digest = load_state_dict(path)
    sd = prepare_state_dict(raw, num_frames, arch.grid if image_size is not None else None)
    frames = num_frames
    if frames is None:
        temporal = sd.get(TEMPORAL_KEY)
        frames = int(temporal.shape[1]) if temporal is not None and temporal.ndim == 3 else None
    if frames is not None:
        overrides["num_frames"] = frames
    cfg = build_config(size, overrides)
    model = build_model(cfg)
    load_into(model, sd, strict=True, what=f"{entry.name} checkpoint {path}")
    spec = replace(entry.spec, num_frames=cfg.num_frames, size=cfg.image_size)
    tok = Path(tokenizer).expanduser() if tokenizer is not None else _find_tokenizer(path)
    return ViCLIPEncoder(model, spec, digest, tokenizer_path=tok, normalize=normalize)
