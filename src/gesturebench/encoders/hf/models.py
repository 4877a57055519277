"""Video encoders backed by Hugging Face ``transformers`` models.

One :class:`HFVideoEncoder` per architecture family; all take
``pixel_values`` laid out (B, T, C, H, W) (``InputSpec.layout == "TCHW"``).
Features per family and ``pooling`` choice (default first):

=============  ===========================================================================
videomae       ``fc_norm``: mean of the last-layer tokens, then the checkpoint's ``fc_norm``
               (fine-tuned checkpoints with ``use_mean_pooling``; exactly the input of the
               classifier); ``mean``: mean of the last-layer tokens (after the final
               LayerNorm where the checkpoint has one, as pre-training checkpoints do).
               VideoMAE has no CLS token. Default: ``fc_norm`` when present, else ``mean``.
xclip          ``pooled``: ``XCLIPModel.get_video_features`` (frame CLS -> projection ->
               multi-frame integration transformer -> mean over frames), 512-d, in the
               text embedding space.
vjepa2         ``mean``: mean of the encoder's last-layer tokens (after its LayerNorm); the
               predictor is not loaded into the encoder we keep.
timesformer    ``cls``: CLS token after the final LayerNorm (what the classifier reads);
               ``mean``: mean of the patch tokens after the final LayerNorm.
vivit          ``cls`` / ``mean`` as for TimeSformer (the classification checkpoints have no
               trained pooler, so its ``pooler_output`` is not offered).
=============  ===========================================================================
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ConfigError, EncoderError, WeightsError, check_choice
from ..base import InputSpec
from ..torch_encoder import TorchEncoder
from .loading import files_sha256, read_json, resolve_hf_dir, spec_from_processor, weight_files

if TYPE_CHECKING:
    import torch

    from ..registry import EncoderEntry

log = logging.getLogger(__name__)

#: pooling choices per family; the first is the default (videomae: see _videomae)
POOLINGS: dict[str, tuple[str, ...]] = {
    "videomae": ("fc_norm", "mean"),
    "xclip": ("pooled",),
    "vjepa2": ("mean",),
    "timesformer": ("cls", "mean"),
    "vivit": ("cls", "mean"),
}


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """No progress bars or load reports on stderr: the library never prints; we check keys ourselves."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def load_pretrained(class_name: str, directory: Path, safetensors: bool, what: str, **kwargs: Any) -> torch.nn.Module:
    """``transformers.<class_name>.from_pretrained(directory)`` offline, fp32, refusing missing or misshapen weights.

    Unexpected keys (a classifier head, a VideoMAE decoder) are allowed: they are
    parts of the checkpoint we do not use.
    """
    import pickle

    import torch
    import transformers

    cls = getattr(transformers, class_name)
    try:
        with _quiet_transformers():
            model, info = cls.from_pretrained(
                str(directory),
                local_files_only=True,
                use_safetensors=safetensors,
                output_loading_info=True,
                dtype=torch.float32,
                **kwargs,
            )
    except pickle.UnpicklingError:  # transformers reads pytorch_model.bin with weights_only=True
        raise WeightsError(
            f"{what}: refusing to load the pickle in {directory}: it needs a Python object outside the tensor "
            "allowlist, and arbitrary pickles are never executed (convert it to model.safetensors in a trusted "
            "environment)"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise WeightsError(f"{what}: cannot load {class_name} from {directory}: {first}") from None
    missing = sorted(info.get("missing_keys", ()))
    mismatched = sorted(str(k[0] if isinstance(k, tuple) else k) for k in info.get("mismatched_keys", ()))
    if missing or mismatched:
        bad = missing or mismatched
        kind = "missing" if missing else "shape-mismatched"
        raise WeightsError(
            f"{what}: checkpoint in {directory} does not fit {class_name}: {len(bad)} {kind} keys "
            f"({', '.join(bad[:5])}{', ...' if len(bad) > 5 else ''})"
        )
    return model.eval()


class HFVideoEncoder(TorchEncoder):
    """A transformers video model plus the pooling that turns its tokens into one vector."""

    family = "hf"
    #: True where the model takes other frame counts than spec.num_frames (read by the extractor)
    accepts_any_num_frames = False

    def __init__(
        self,
        model: torch.nn.Module,
        spec: InputSpec,
        feature_dim: int,
        pooling: str,
        weights_sha256: str | None,
        source: str = "",
    ) -> None:
        super().__init__(model, weights_sha256)
        self.spec = spec
        self.feature_dim = feature_dim
        self.pooling = pooling
        self.source = source

    def _check(self, clips: torch.Tensor) -> None:
        if clips.ndim != 5 or clips.shape[2] != 3:
            raise EncoderError(f"{self.name}: clips must be (B, T, 3, H, W) (layout TCHW); got {tuple(clips.shape)}")

    def identity(self) -> dict[str, Any]:
        out = super().identity()
        out["pooling"] = self.pooling
        return out


class VideoMAEEncoder(HFVideoEncoder):
    family = "videomae"

    def __init__(self, model: torch.nn.Module, fc_norm: torch.nn.Module | None, **kw: Any) -> None:
        import torch

        holder = torch.nn.Module()
        holder.videomae = model
        holder.fc_norm = fc_norm if fc_norm is not None else torch.nn.Identity()
        super().__init__(holder, **kw)

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        self._check(clips)
        tokens = self.model.videomae(pixel_values=clips).last_hidden_state
        pooled = tokens.mean(dim=1)
        return self.model.fc_norm(pooled) if self.pooling == "fc_norm" else pooled


class XCLIPEncoder(HFVideoEncoder):
    family = "xclip"
    supports_text = True

    def __init__(self, model: torch.nn.Module, tokenizer_dir: Path | None, **kw: Any) -> None:
        super().__init__(model, **kw)
        self.tokenizer_dir = tokenizer_dir
        self._tokenizer: Any = None

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        self._check(clips)
        return self.model.get_video_features(pixel_values=clips).pooler_output

    def tokenizer(self) -> Any:
        if self._tokenizer is None:
            where = self.tokenizer_dir
            hint = (
                f"{self.name}: no CLIP tokenizer files (tokenizer.json or vocab.json + merges.txt) in {where}; "
                f"download them with the checkpoint ({self.source or 'its hub repository'}) or pass tokenizer=DIR"
            )
            if where is None or not any((where / f).is_file() for f in ("tokenizer.json", "vocab.json")):
                raise WeightsError(hint)
            from transformers import AutoTokenizer

            try:
                with _quiet_transformers():
                    self._tokenizer = AutoTokenizer.from_pretrained(str(where), local_files_only=True)
            except (OSError, ValueError, TypeError) as exc:
                raise WeightsError(f"{hint} ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
        return self._tokenizer

    def encode_token_ids(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None) -> torch.Tensor:
        """Projected text embeddings (N, D) for already tokenised text (``get_text_features``)."""
        import torch

        with torch.inference_mode():
            ids = input_ids.to(self.device)
            mask = attention_mask.to(self.device) if attention_mask is not None else None
            out = self.model.get_text_features(input_ids=ids, attention_mask=mask).pooler_output
        return out.float()

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        """Video-independent text embeddings; X-CLIP's video-specific prompt generator is not applied
        (it needs each video's frame tokens), so cosine similarity with :meth:`encode` is the
        prompt-free variant of X-CLIP's zero-shot score."""
        tok = self.tokenizer()
        limit = int(self.model.config.text_config.max_position_embeddings)
        batch = tok(list(texts), padding=True, truncation=True, max_length=limit, return_tensors="pt")
        return self.encode_token_ids(batch["input_ids"], batch.get("attention_mask"))


class TokenPoolEncoder(HFVideoEncoder):
    """CLS or mean of patch tokens of ``last_hidden_state`` (TimeSformer, ViViT)."""

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        self._check(clips)
        tokens = self.model(pixel_values=clips).last_hidden_state
        return tokens[:, 0] if self.pooling == "cls" else tokens[:, 1:].mean(dim=1)


class VJEPA2Encoder(HFVideoEncoder):
    family = "vjepa2"
    #: rotary position embeddings: any multiple of the tubelet works (the extractor checks that)
    accepts_any_num_frames = True

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        self._check(clips)
        return self.model(pixel_values_videos=clips).last_hidden_state.mean(dim=1)


# --------------------------------------------------------------------------- factory


def create_hf_encoder(
    entry: EncoderEntry,
    weights: str | os.PathLike[str] | None = None,
    arch: str = "",
    pooling: str | None = None,
    num_frames: int | None = None,
    tokenizer: str | os.PathLike[str] | None = None,
) -> HFVideoEncoder:
    """Build ``entry`` from a local checkpoint folder (``weights``), ``hf:<org>/<name>``, or the hub.

    ``pooling``: see :data:`POOLINGS`. ``num_frames``: V-JEPA 2 only (rotary position
    embeddings accept any even count; the preset uses the checkpoint's
    ``frames_per_clip``). ``tokenizer``: X-CLIP only, a folder with CLIP tokenizer
    files when the checkpoint folder has none.
    """
    check_choice("arch", arch, POOLINGS)
    if pooling is not None:
        check_choice(f"pooling for {entry.name}", pooling, POOLINGS[arch])
    if num_frames is not None and arch != "vjepa2":
        raise ConfigError(f"num_frames can only be overridden for V-JEPA 2 presets; {entry.name} is {arch}")
    if tokenizer is not None and arch != "xclip":
        raise ConfigError(f"tokenizer only applies to X-CLIP presets; {entry.name} has no text tower")
    directory = resolve_hf_dir(entry, weights)
    files, safe = weight_files(directory, entry.name)
    config = read_json(directory / "config.json")
    digest = files_sha256(files)
    common = {"weights_sha256": digest, "source": entry.hub_id or entry.source}
    if arch == "videomae":
        return _videomae(entry, directory, safe, config, pooling, common)
    if arch == "xclip":
        return _xclip(entry, directory, safe, tokenizer, common)
    if arch == "vjepa2":
        return _vjepa2(entry, directory, safe, num_frames, common)
    return _token_pool(entry, directory, safe, arch, pooling or POOLINGS[arch][0], common)


def _videomae(entry, directory, safe, config, pooling, common) -> VideoMAEEncoder:
    classifier = "VideoMAEForVideoClassification" in (config.get("architectures") or [])
    has_fc_norm = classifier and bool(config.get("use_mean_pooling", True))
    if pooling == "fc_norm" and not has_fc_norm:
        raise ConfigError(
            f"pooling fc_norm needs a fine-tuned VideoMAE checkpoint with fc_norm; {directory} has none (use pooling=mean)"
        )
    pooling = pooling or ("fc_norm" if has_fc_norm else "mean")
    if has_fc_norm:
        full = load_pretrained("VideoMAEForVideoClassification", directory, safe, entry.name)
        backbone, fc_norm = full.videomae, full.fc_norm
    else:
        backbone, fc_norm = load_pretrained("VideoMAEModel", directory, safe, entry.name), None
    c = backbone.config
    spec = spec_from_processor(directory, entry.spec, c.num_frames, c.image_size, c.tubelet_size)
    return VideoMAEEncoder(backbone, fc_norm, spec=spec, feature_dim=c.hidden_size, pooling=pooling, **common)


def _xclip(entry, directory, safe, tokenizer, common) -> XCLIPEncoder:
    model = load_pretrained("XCLIPModel", directory, safe, entry.name)
    v = model.config.vision_config
    spec = spec_from_processor(directory, entry.spec, v.num_frames, v.image_size, 1)
    tok_dir = Path(tokenizer).expanduser() if tokenizer is not None else directory
    return XCLIPEncoder(
        model, tok_dir, spec=spec, feature_dim=model.config.projection_dim, pooling="pooled", **common
    )


def _vjepa2(entry, directory, safe, num_frames, common) -> VJEPA2Encoder:
    full = load_pretrained("VJEPA2Model", directory, safe, entry.name)
    c = full.config
    frames = c.frames_per_clip if num_frames is None else num_frames
    if isinstance(frames, bool) or not isinstance(frames, int) or frames < 1 or frames % c.tubelet_size:
        raise ConfigError(f"num_frames for {entry.name} must be a positive multiple of {c.tubelet_size}; got {frames!r}")
    spec = spec_from_processor(directory, entry.spec, frames, c.crop_size, c.tubelet_size)
    return VJEPA2Encoder(full.encoder, spec=spec, feature_dim=c.hidden_size, pooling="mean", **common)


def _token_pool(entry, directory, safe, arch, pooling, common) -> TokenPoolEncoder:
    if arch == "timesformer":
        model = load_pretrained("TimesformerModel", directory, safe, entry.name)
        tubelet = 1
    else:
        model = load_pretrained("VivitModel", directory, safe, entry.name, add_pooling_layer=False)
        tubelet = int(model.config.tubelet_size[0])
    c = model.config
    spec = spec_from_processor(directory, entry.spec, c.num_frames, c.image_size, tubelet, offset_default=arch == "vivit")
    enc = TokenPoolEncoder(model, spec=spec, feature_dim=c.hidden_size, pooling=pooling, **common)
    enc.family = arch
    return enc
