"""A plain video ViT with tube patches: the shared backbone of our UMT and VideoMAE ports.

Written from the architecture papers and the official model definitions
(OpenGVLab/unmasked_teacher ``single_modality/models/modeling_finetune.py``,
OpenGVLab/VideoMAEv2 ``models/modeling_finetune.py``); no code is vendored.
Parameter names follow the official checkpoints so the real files load
strictly with no renaming:

* ``patch_embed.proj``: Conv3d with kernel = stride = (tubelet, patch, patch);
  tokens are ordered time-major (t, h, w), as ``flatten(2)`` of the conv output;
* a fixed 1-D sine/cosine position table over all tokens (not a parameter,
  not in the checkpoints), no CLS token;
* pre-norm blocks ``norm1 -> attn -> +``, ``norm2 -> mlp -> +``; attention has
  one bias-free ``qkv`` projection plus separate ``q_bias`` and ``v_bias``
  (the key has no bias); LayerNorm eps 1e-6; exact (erf) GELU;
* pooling ``fc_norm``: ``fc_norm(mean over tokens)`` (fine-tuned checkpoints);
  pooling ``norm_mean``: ``mean over tokens of norm(tokens)`` (pre-training
  checkpoints, which carry a final ``norm`` but no ``fc_norm``).

Attention runs through :func:`torch.nn.functional.scaled_dot_product_attention`
(fused kernels on GPU; bf16 autocast comes from :class:`TorchEncoder`).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError, WeightsError
from .torch_encoder import TorchEncoder
from .weights import (
    LoadReport,
    interpolate_pos_embed,
    load_into,
    load_state_dict,
    resolve_weights,
    select_prefix,
    sinusoid_table,
    strip_prefix,
)

log = logging.getLogger(__name__)

POOLINGS = ("fc_norm", "norm_mean")
#: official checkpoint keys we never use for features (classifier, CLIP-distillation decoder of UMT pre-training)
IGNORED_OFFICIAL_KEYS = (r"head\..*", r"clip_decoder\..*", r"decoder\..*", r"encoder_to_decoder\..*", r"mask_token")


@dataclass(frozen=True)
class VideoViTConfig:
    embed_dim: int = 768
    depth: int = 12
    num_heads: int = 12
    mlp_ratio: float = 4.0
    patch_size: int = 16
    tubelet: int = 1
    num_frames: int = 8
    img_size: int = 224
    in_chans: int = 3
    norm_eps: float = 1e-6
    pooling: str = "fc_norm"
    #: the token grid (t, h, w) the fixed position table was built for; when the
    #: input grid differs, UMT interpolates that table ("interpolate") while
    #: VideoMAE V2 regenerates it for the new token count ("regenerate")
    pos_base_grid: tuple[int, int, int] | None = None
    pos_resize: str = "regenerate"

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise ConfigError(f"pooling must be one of {', '.join(POOLINGS)}; got {self.pooling!r}")
        if self.pos_resize not in ("regenerate", "interpolate"):
            raise ConfigError(f"pos_resize must be one of regenerate, interpolate; got {self.pos_resize!r}")
        if self.embed_dim % self.num_heads:
            raise ConfigError(f"embed_dim ({self.embed_dim}) must be a multiple of num_heads ({self.num_heads})")
        if self.num_frames % self.tubelet:
            raise ConfigError(f"num_frames ({self.num_frames}) must be a multiple of tubelet ({self.tubelet})")
        if self.img_size % self.patch_size:
            raise ConfigError(f"img_size ({self.img_size}) must be a multiple of patch_size ({self.patch_size})")

    @property
    def grid(self) -> tuple[int, int, int]:
        s = self.img_size // self.patch_size
        return (self.num_frames // self.tubelet, s, s)

    @property
    def num_tokens(self) -> int:
        return math.prod(self.grid)

    @property
    def mlp_hidden(self) -> int:
        return int(self.embed_dim * self.mlp_ratio)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# --------------------------------------------------------------------------- analytic cost


def count_params(cfg: VideoViTConfig) -> int:
    """Parameters of the feature extractor (no classifier head), from the shapes alone."""
    d, h = cfg.embed_dim, cfg.mlp_hidden
    patch = d * cfg.in_chans * cfg.tubelet * cfg.patch_size**2 + d
    block = 3 * d * d + 2 * d + (d * d + d) + (d * h + h) + (h * d + d) + 4 * d
    return patch + cfg.depth * block + 2 * d


def gflops_per_clip(cfg: VideoViTConfig) -> float:
    """Multiply-accumulates / 1e9 for one clip (the fvcore convention the UMT and VideoMAE papers report).

    Counts the patch-embedding convolution, the qkv / output / MLP matmuls and
    the two attention matmuls (N^2 D each); norms, softmax and GELU are
    ignored. ViT-B/16 on 1568 tokens gives 179.4, the papers' "180 GFLOPs".
    """
    n, d, h = cfg.num_tokens, cfg.embed_dim, cfg.mlp_hidden
    patch = n * d * cfg.in_chans * cfg.tubelet * cfg.patch_size**2
    block = n * (3 * d * d + d * d + 2 * d * h) + 2 * n * n * d
    return (patch + cfg.depth * block) / 1e9


# --------------------------------------------------------------------------- modules


class PatchEmbed3d(nn.Module):
    def __init__(self, cfg: VideoViTConfig):
        super().__init__()
        k = (cfg.tubelet, cfg.patch_size, cfg.patch_size)
        self.proj = nn.Conv3d(cfg.in_chans, cfg.embed_dim, kernel_size=k, stride=k)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, T, H, W) -> (B, N, D)
        return self.proj(x).flatten(2).transpose(1, 2)


class Attention(nn.Module):
    #: False: explicit softmax(QK^T)V (used to count FLOPs; fused SDPA kernels are invisible to counters)
    use_sdpa: bool = True

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        # the key projection has no bias: it would add the same value to every
        # logit of a query row and cancel in the softmax
        bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias).reshape(b, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        if self.use_sdpa:
            out = F.scaled_dot_product_attention(q, k, v)
        else:
            attn = (q * (q.shape[-1] ** -0.5)) @ k.transpose(-2, -1)
            out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def drop_path(x: torch.Tensor, rate: float, training: bool) -> torch.Tensor:
    """Stochastic depth: zero a residual branch for a random subset of samples, rescale the rest.

    Identity unless ``training`` and ``rate > 0``, so inference never changes. The
    per-sample keep mask comes from the global torch RNG (which training
    checkpoints save and restore, so a resumed run draws the same masks).
    """
    if not training or rate <= 0.0:
        return x
    keep = 1.0 - rate
    mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
    return x * mask / keep


class Block(nn.Module):
    #: stochastic-depth rate of this block's two residual branches (training only; 0 = off)
    drop_path: float = 0.0

    def __init__(self, cfg: VideoViTConfig):
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        self.attn = Attention(cfg.embed_dim, cfg.num_heads)
        self.norm2 = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        self.mlp = Mlp(cfg.embed_dim, cfg.mlp_hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + drop_path(self.attn(self.norm1(x)), self.drop_path, self.training)
        return x + drop_path(self.mlp(self.norm2(x)), self.drop_path, self.training)


def position_table(cfg: VideoViTConfig) -> torch.Tensor:
    """The fixed (N, D) position table for ``cfg``'s token grid."""
    base = cfg.pos_base_grid or cfg.grid
    if cfg.pos_resize == "regenerate" or tuple(base) == cfg.grid:
        return sinusoid_table(cfg.num_tokens, cfg.embed_dim)
    table = sinusoid_table(math.prod(base), cfg.embed_dim)
    return interpolate_pos_embed(table, tuple(base), cfg.grid, kind="learned")


class VideoViT(nn.Module):
    """Patch embedding + position table + blocks + pooling; ``forward`` returns (B, D) features."""

    def __init__(self, cfg: VideoViTConfig):
        super().__init__()
        self.cfg = cfg
        self.patch_embed = PatchEmbed3d(cfg)
        # a buffer so .to(device) moves it; not persistent because the official
        # checkpoints do not store the fixed table
        self.register_buffer("pos_embed", position_table(cfg), persistent=False)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        if cfg.pooling == "fc_norm":
            self.fc_norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)
        else:
            self.norm = nn.LayerNorm(cfg.embed_dim, eps=cfg.norm_eps)

    def set_drop_path(self, rate: float) -> None:
        """Stochastic depth rising linearly from 0 (first block) to ``rate`` (last block).

        The linear rule is the one of the official UMT / VideoMAE fine-tuning
        models. A plain attribute, not a parameter: weights and features are untouched.
        """
        if not 0.0 <= rate < 1.0:
            raise ConfigError(f"drop-path rate must be in [0, 1); got {rate!r}")
        n = len(self.blocks)
        for i, blk in enumerate(self.blocks):
            blk.drop_path = rate * i / (n - 1) if n > 1 else rate

    def set_attention(self, use_sdpa: bool) -> None:
        for blk in self.blocks:
            blk.attn.use_sdpa = use_sdpa

    def forward_tokens(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, T, H, W) -> (B, N, D) tokens after the last block (before any final norm)."""
        b, c, t, h, w = x.shape
        want = (self.cfg.in_chans, self.cfg.num_frames, self.cfg.img_size, self.cfg.img_size)
        if (c, t, h, w) != want:
            raise ConfigError(f"clips must be (B, {', '.join(map(str, want))}) laid out CTHW; got {tuple(x.shape)}")
        x = self.patch_embed(x) + self.pos_embed.to(x.dtype)
        for blk in self.blocks:
            x = blk(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.forward_tokens(x)
        if self.cfg.pooling == "fc_norm":
            return self.fc_norm(tokens.mean(dim=1))
        return self.norm(tokens).mean(dim=1)


def build_model(cfg: VideoViTConfig, seed: int | None = 0, init: str = "default") -> VideoViT:
    """A :class:`VideoViT`; ``seed`` makes random initialisation reproducible (tests, timing)."""
    if seed is None:
        return VideoViT(cfg)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = VideoViT(cfg)
        if init == "randn":
            # non-trivial biases and norms, so equivalence tests exercise every parameter
            for p in model.parameters():
                nn.init.normal_(p, std=0.02)
            for m in model.modules():
                if isinstance(m, nn.LayerNorm):
                    nn.init.normal_(m.weight, mean=1.0, std=0.1)
    return model


# --------------------------------------------------------------------------- official checkpoints


def official_to_ours(sd: Mapping[str, Any]) -> dict[str, Any]:
    """Map an official UMT / VideoMAE (V2) state dict onto our key names.

    Pre-training checkpoints keep the encoder under ``encoder.`` (with a
    decoder or CLIP-distillation heads beside it): only the encoder is kept.
    A ``backbone.`` prefix (some fine-tuning exports) is stripped, as the
    official fine-tuning script does. Fine-tuned checkpoints need no change.
    Works on any mapping (tensors or shapes).
    """
    if any(k.startswith("encoder.") for k in sd):
        sd = select_prefix(sd, "encoder.")
    return strip_prefix(sd, "backbone.")


def load_official(model: VideoViT, path: os.PathLike[str] | str) -> tuple[LoadReport, str]:
    """Load an official checkpoint strictly into ``model``; returns the report and the file's sha256.

    A learned ``pos_embed`` in the file (official fine-tunes at another
    resolution or frame count store one) replaces the fixed table, resized to
    the model's token grid when it differs.
    """
    sd, digest = load_state_dict(path)
    raw_keys = list(sd)
    sd = official_to_ours(sd)
    # what the key selection left out (a pre-training file's decoders), so the log can say so
    dropped: list[str] = []
    if any(k.startswith("encoder.") for k in raw_keys):
        dropped = sorted(k for k in raw_keys if not k.startswith("encoder."))
    pe = sd.pop("pos_embed", None)
    report = load_into(model, sd, strict=True, ignore=IGNORED_OFFICIAL_KEYS, what=f"checkpoint {path}")
    if dropped:
        report = replace(report, dropped=dropped)
    if pe is not None:
        n, d = pe.shape[-2], pe.shape[-1]
        if d != model.cfg.embed_dim:
            raise WeightsError(f"checkpoint {path}: pos_embed width {d} does not fit embed_dim {model.cfg.embed_dim}")
        t0, h0, w0 = model.cfg.grid
        side = math.isqrt(n // t0) if n % t0 == 0 else 0
        if n % (h0 * w0) == 0:  # same resolution, maybe another frame count
            src = (n // (h0 * w0), h0, w0)
        elif side * side * t0 == n:  # same frame count, another resolution
            src = (t0, side, side)
        else:
            raise WeightsError(
                f"checkpoint {path}: pos_embed has {n} tokens, neither T x {h0} x {w0} nor {t0} x S x S; "
                "refusing to guess its layout"
            )
        table = interpolate_pos_embed(pe.reshape(n, d).float(), src, model.cfg.grid)
        model.pos_embed.copy_(table)
    return report, digest


class VideoViTEncoder(TorchEncoder):
    """A :class:`VideoViT` behind the encoder contract (clips laid out CTHW)."""

    def __init__(self, model: VideoViT, spec, weights_sha256: str | None = None, version: str = "1") -> None:
        super().__init__(model, weights_sha256)
        self.spec = spec
        self.feature_dim = model.cfg.embed_dim
        self.version = version

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        return self.model(clips)

    def identity(self) -> dict[str, Any]:
        out = super().identity()
        out["architecture"] = self.model.cfg.to_dict()
        return out


def create_video_vit(
    entry,
    cfg: VideoViTConfig,
    weights: os.PathLike[str] | str | None = None,
    random_init: bool = False,
    num_frames: int | None = None,
    seed: int = 0,
    **unknown: Any,
) -> VideoViTEncoder:
    """Shared factory body: build ``cfg`` (frames overridable), load weights, wrap with the entry's spec.

    ``random_init=True`` skips weights (latency benchmarks, tests); presets
    marked ``test_only`` are randomly initialised unless ``weights`` is given.
    """
    if unknown:
        raise ConfigError(
            f"encoder {entry.name!r} got unknown option(s) {', '.join(sorted(unknown))}; "
            "allowed: num_frames, random_init, seed"
        )
    if num_frames is not None and num_frames != cfg.num_frames:
        cfg = replace(cfg, num_frames=num_frames)
    spec = entry.spec if cfg.num_frames == entry.spec.num_frames else replace(entry.spec, num_frames=cfg.num_frames)
    if random_init or (entry.test_only and weights is None):
        return VideoViTEncoder(build_model(cfg, seed=seed), spec, weights_sha256=f"random-init-seed{seed}")
    path = resolve_weights(entry, weights)  # before building: a missing file fails fast
    # allocate without initialising: a strict load overwrites every parameter
    with torch.device("meta"):
        model = VideoViT(cfg)
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        model.pos_embed.copy_(position_table(cfg))
    report, digest = load_official(model, path)
    log.info("%s: loaded %s (%s)", entry.name, path, report.summary())
    return VideoViTEncoder(model, spec, weights_sha256=digest)


# --------------------------------------------------------------------------- transformers equivalent


def to_transformers_videomae(model: VideoViT):
    """The same network as a ``transformers.VideoMAEModel`` carrying our weights.

    Used to check the port against an independent implementation and to
    compare speed. ``fc_norm`` pooling maps to ``use_mean_pooling=True`` (the
    model returns un-normalised tokens; apply ``fc_norm`` to their mean);
    ``norm_mean`` maps to ``use_mean_pooling=False`` (its final ``layernorm``
    is our ``norm``). The fused ``qkv`` weight is split into query/key/value;
    the key projection has no bias in either layout.
    """
    from transformers import VideoMAEConfig, VideoMAEModel

    cfg = model.cfg
    if cfg.pos_resize == "interpolate" and cfg.pos_base_grid not in (None, cfg.grid):
        raise ConfigError("an interpolated position table has no transformers VideoMAE equivalent")
    hf_cfg = VideoMAEConfig(
        image_size=cfg.img_size,
        patch_size=cfg.patch_size,
        num_channels=cfg.in_chans,
        num_frames=cfg.num_frames,
        tubelet_size=cfg.tubelet,
        hidden_size=cfg.embed_dim,
        num_hidden_layers=cfg.depth,
        num_attention_heads=cfg.num_heads,
        intermediate_size=cfg.mlp_hidden,
        hidden_act="gelu",
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        layer_norm_eps=cfg.norm_eps,
        qkv_bias=True,
        use_mean_pooling=cfg.pooling == "fc_norm",
    )
    ours = model.state_dict()
    d = cfg.embed_dim
    sd = {
        "embeddings.patch_embeddings.projection.weight": ours["patch_embed.proj.weight"],
        "embeddings.patch_embeddings.projection.bias": ours["patch_embed.proj.bias"],
    }
    for i in range(cfg.depth):
        a, b = f"blocks.{i}.", f"encoder.layer.{i}."
        q, k, v = ours[a + "attn.qkv.weight"].split(d, dim=0)
        sd.update(
            {
                b + "attention.attention.query.weight": q,
                b + "attention.attention.query.bias": ours[a + "attn.q_bias"],
                b + "attention.attention.key.weight": k,
                b + "attention.attention.value.weight": v,
                b + "attention.attention.value.bias": ours[a + "attn.v_bias"],
                b + "attention.output.dense.weight": ours[a + "attn.proj.weight"],
                b + "attention.output.dense.bias": ours[a + "attn.proj.bias"],
                b + "layernorm_before.weight": ours[a + "norm1.weight"],
                b + "layernorm_before.bias": ours[a + "norm1.bias"],
                b + "layernorm_after.weight": ours[a + "norm2.weight"],
                b + "layernorm_after.bias": ours[a + "norm2.bias"],
                b + "intermediate.dense.weight": ours[a + "mlp.fc1.weight"],
                b + "intermediate.dense.bias": ours[a + "mlp.fc1.bias"],
                b + "output.dense.weight": ours[a + "mlp.fc2.weight"],
                b + "output.dense.bias": ours[a + "mlp.fc2.bias"],
            }
        )
    if cfg.pooling == "norm_mean":
        sd["layernorm.weight"], sd["layernorm.bias"] = ours["norm.weight"], ours["norm.bias"]
    hf = VideoMAEModel(hf_cfg).eval()
    hf.load_state_dict(sd, strict=True)
    return hf
