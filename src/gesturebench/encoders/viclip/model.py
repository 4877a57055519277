"""ViCLIP (InternVid, ICLR 2024): a CLIP ViT with joint space-time attention and a CLIP text tower.

Our own implementation of the architecture published in OpenGVLab/InternVideo
(``Data/InternVid/viclip``). Module and parameter names follow the official
checkpoints (``vision_encoder.*``, ``text_encoder.*``, ``temp``) so a released
state dict loads strictly without renaming.

Vision tower, per clip of T frames (B, T, 3, H, W):

1. each frame -> non-overlapping p x p patches -> width-D tokens (``conv1``: a Conv3d with
   temporal kernel 1 and no bias in the checkpoint; applied here as the equivalent per-frame
   2-D convolution);
2. the learned spatial ``positional_embedding`` (CLS row first) is added to every frame's
   tokens, then the learned ``temporal_positional_embedding`` (1, T, D) to the patch tokens
   (for a single frame, its mean over time, as the official code does);
3. one CLS token (``class_embedding`` + its position row) is prepended to the T x N patch
   tokens of the clip; ``ln_pre``; a pre-norm transformer with joint attention over all
   1 + T * N tokens; ``ln_post``;
4. the feature is the CLS token times ``proj`` (D x E).

The official code orders patch tokens space-major ((n t)); we order them time-major ((t n)).
Attention is permutation-equivariant and only the CLS output is read, so the result is the
same (tests check this against a reference with the official order).

Text tower: CLIP's causal transformer with context length 32 (the checkpoint's
``text_encoder.positional_embedding`` has 32 rows), pooled at the end-of-text token (the
highest token id in each row, as in CLIP) and projected by ``text_projection``.

Both towers use LayerNorm eps 1e-5, QuickGELU MLPs (ratio 4), and attention computed with
``scaled_dot_product_attention`` from the checkpoint's packed ``in_proj_weight``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class ViCLIPConfig:
    """Sizes of one ViCLIP variant (defaults: ViT-B/16, the study's backbone)."""

    image_size: int = 224
    patch_size: int = 16
    num_frames: int = 8
    vision_width: int = 768
    vision_layers: int = 12
    vision_heads: int = 12
    embed_dim: int = 512
    text_width: int = 512
    text_layers: int = 12
    text_heads: int = 8
    context_length: int = 32
    vocab_size: int = 49408

    @property
    def grid(self) -> int:
        return self.image_size // self.patch_size


VICLIP_B16 = ViCLIPConfig()
VICLIP_L14 = ViCLIPConfig(
    patch_size=14, vision_width=1024, vision_layers=24, vision_heads=16, embed_dim=768, text_width=768, text_heads=12
)


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class PackedSelfAttention(nn.Module):
    """Multi-head self-attention whose weights are laid out like ``nn.MultiheadAttention``.

    ``in_proj_weight`` stacks the q, k and v projections (3D, D); ``out_proj`` is a Linear.
    """

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        b, n, d = x.shape
        qkv = F.linear(x, self.in_proj_weight, self.in_proj_bias)
        qkv = qkv.view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_causal=causal)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, d))


class MLP(nn.Module):
    def __init__(self, width: int) -> None:
        super().__init__()
        self.c_fc = nn.Linear(width, 4 * width)
        self.gelu = QuickGELU()
        self.c_proj = nn.Linear(4 * width, width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c_proj(self.gelu(self.c_fc(x)))


class ResidualBlock(nn.Module):
    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = PackedSelfAttention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = MLP(width)

    def forward(self, x: torch.Tensor, causal: bool = False) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), causal=causal)
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int, causal: bool = False) -> None:
        super().__init__()
        self.causal = causal
        self.resblocks = nn.ModuleList(ResidualBlock(width, heads) for _ in range(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block in self.resblocks:
            x = block(x, causal=self.causal)
        return x


class ViCLIPVision(nn.Module):
    """Joint space-time CLIP ViT; input (B, T, 3, H, W), output (B, embed_dim) (unnormalised)."""

    def __init__(self, cfg: ViCLIPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w, p = cfg.vision_width, cfg.patch_size
        scale = w**-0.5
        self.conv1 = nn.Conv3d(3, w, (1, p, p), (1, p, p), bias=False)
        self.class_embedding = nn.Parameter(scale * torch.randn(w))
        self.positional_embedding = nn.Parameter(scale * torch.randn(cfg.grid**2 + 1, w))
        self.temporal_positional_embedding = nn.Parameter(torch.zeros(1, cfg.num_frames, w))
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(w, cfg.vision_layers, cfg.vision_heads)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(scale * torch.randn(w, cfg.embed_dim))

    def tokens(self, clips: torch.Tensor) -> torch.Tensor:
        """(B, T, 3, H, W) -> all final tokens (B, 1 + T*N, D) after ln_post, CLS first."""
        b, t, c, h, w = clips.shape
        weight = self.conv1.weight[:, :, 0]  # temporal kernel 1: a per-frame 2-D convolution
        x = F.conv2d(clips.reshape(b * t, c, h, w), weight, stride=self.cfg.patch_size)
        x = x.flatten(2).transpose(1, 2)  # (B*T, N, D)
        n, d = x.shape[1], x.shape[2]
        x = x + self.positional_embedding[1:].to(x.dtype)
        temporal = self.temporal_positional_embedding
        if t == 1:
            temporal = temporal.mean(dim=1, keepdim=True)
        x = x.view(b, t, n, d) + temporal.to(x.dtype).unsqueeze(2)
        cls = (self.class_embedding + self.positional_embedding[0]).to(x.dtype).expand(b, 1, d)
        x = torch.cat([cls, x.reshape(b, t * n, d)], dim=1)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x)

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        return self.tokens(clips)[:, 0] @ self.proj.to(clips.dtype)


class ViCLIPText(nn.Module):
    """CLIP text transformer; input token ids (N, L <= context_length), output (N, embed_dim)."""

    def __init__(self, cfg: ViCLIPConfig) -> None:
        super().__init__()
        self.cfg = cfg
        w = cfg.text_width
        self.token_embedding = nn.Embedding(cfg.vocab_size, w)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(cfg.context_length, w))
        self.transformer = Transformer(w, cfg.text_layers, cfg.text_heads, causal=True)
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(w**-0.5 * torch.randn(w, cfg.embed_dim))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        length = ids.shape[1]
        x = self.token_embedding(ids) + self.positional_embedding[:length]
        x = self.ln_final(self.transformer(x))
        eot = ids.argmax(dim=-1)  # end-of-text has the highest id in CLIP's vocabulary
        return x[torch.arange(x.shape[0], device=x.device), eot] @ self.text_projection


class ViCLIP(nn.Module):
    """Both towers plus the contrastive temperature ``temp`` (kept so checkpoints load strictly)."""

    def __init__(self, cfg: ViCLIPConfig = VICLIP_B16) -> None:
        super().__init__()
        self.cfg = cfg
        self.vision_encoder = ViCLIPVision(cfg)
        self.text_encoder = ViCLIPText(cfg)
        self.temp = nn.Parameter(torch.tensor(0.01))


def resize_temporal_embedding(embed: torch.Tensor, num_frames: int) -> torch.Tensor:
    """(1, T0, D) -> (1, num_frames, D) the way the official loader adapts checkpoints:
    fewer frames keep the first rows; more frames interpolate linearly over time."""
    t0 = embed.shape[1]
    if num_frames == t0:
        return embed
    if num_frames < t0:
        return embed[:, :num_frames]
    y = F.interpolate(embed.transpose(1, 2).float(), size=num_frames, mode="linear", align_corners=False)
    return y.transpose(1, 2).to(embed.dtype)
