"""Tiny, randomly initialised encoders for tests (``test-tiny-vit``, ``test-tiny-clip``).

They are real (small) transformer video encoders: a Conv3d tubelet patch
embedding, learned position embeddings, pre-norm attention blocks and mean
pooling, so every code path that a large ViT takes (TorchEncoder, precision,
weights files, batching) runs in milliseconds. Weights come from a fixed seed
through a private generator, so ``weights_sha256`` is the same on every machine
and run; a ``weights`` file (``.safetensors``, or a ``.pt``/``.pth`` state dict)
replaces them and is hashed instead.

``test-tiny-clip`` adds a text tower fed by a trivial deterministic tokenizer
(UTF-8 bytes), so zero-shot code paths can be exercised without any download.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.nn import functional as F

from ...errors import ConfigError, WeightsError
from ..base import InputSpec
from ..torch_encoder import TorchEncoder
from ._clips import check_clips

if TYPE_CHECKING:
    from ..registry import EncoderEntry


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)); x + mlp(ln(x))."""

    def __init__(self, dim: int, heads: int, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        if dim % heads:
            raise ConfigError(f"tiny encoder dim ({dim}) must be a multiple of heads ({heads})")
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        hidden = int(dim * mlp_ratio)
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        x = x + self.proj(a.transpose(1, 2).reshape(b, n, d))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class TinyVideoViT(nn.Module):
    """(B, 3, T, S, S) -> (B, dim): tubelet patches, blocks, mean pool, LayerNorm."""

    def __init__(self, spec: InputSpec, dim: int = 32, depth: int = 2, heads: int = 4, patch: int = 8) -> None:
        super().__init__()
        if spec.size % patch:
            raise ConfigError(f"tiny encoder size ({spec.size}) must be a multiple of patch ({patch})")
        self.patch_embed = nn.Conv3d(3, dim, (spec.tubelet, patch, patch), stride=(spec.tubelet, patch, patch))
        tokens = (spec.num_frames // spec.tubelet) * (spec.size // patch) ** 2
        self.pos_embed = nn.Parameter(torch.zeros(1, tokens, dim))
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).flatten(2).transpose(1, 2) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.norm(x.mean(dim=1))


def byte_tokenize(texts: list[str], context: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    """UTF-8 bytes + 1 (0 is padding), truncated/padded to ``context``.

    Returns token ids (N, context) int64 and a boolean mask (N, context), True on real tokens.
    An empty text keeps one padding token unmasked so pooling never divides by zero.
    """
    ids = torch.zeros((len(texts), context), dtype=torch.int64)
    for i, text in enumerate(texts):
        raw = list(text.strip().lower().encode("utf-8"))[:context]
        if raw:
            ids[i, : len(raw)] = torch.tensor(raw, dtype=torch.int64) + 1
    mask = ids > 0
    mask[:, 0] = True
    return ids, mask


class TinyTextTower(nn.Module):
    """Byte embeddings + position embeddings, blocks, masked mean pool, LayerNorm."""

    def __init__(self, dim: int = 32, depth: int = 1, heads: int = 4, context: int = 32) -> None:
        super().__init__()
        self.context = context
        self.tok_embed = nn.Embedding(257, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, context, dim))
        self.blocks = nn.ModuleList(Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = self.tok_embed(ids) + self.pos_embed
        attn = mask[:, None, None, :]  # keys that may be attended to
        for blk in self.blocks:
            x = blk(x, attn)
        m = mask.unsqueeze(-1).to(x.dtype)
        return self.norm((x * m).sum(1) / m.sum(1))


class TinyClip(nn.Module):
    """Video tower + text tower, each projected linearly into a shared ``embed_dim`` space."""

    def __init__(self, spec: InputSpec, dim: int = 32, embed_dim: int = 32, context: int = 32) -> None:
        super().__init__()
        self.visual = TinyVideoViT(spec, dim=dim)
        self.text = TinyTextTower(dim=dim, context=context)
        self.visual_proj = nn.Linear(dim, embed_dim, bias=False)
        self.text_proj = nn.Linear(dim, embed_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.visual_proj(self.visual(x))

    def forward_text(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.text_proj(self.text(ids, mask))


def seeded_init_(model: nn.Module, seed: int) -> nn.Module:
    """Deterministic initialisation from a private generator (global RNG untouched):
    LayerNorm weight 1 / bias 0, other biases 0, other weights N(0, 0.02^2)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if ".norm" in f".{name}" and name.endswith("weight"):
                p.fill_(1.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
    return model


def state_dict_sha256(model: nn.Module) -> str:
    """SHA-256 over names, dtypes, shapes and bytes of the state dict, in name order."""
    h = hashlib.sha256()
    for name, t in sorted(model.state_dict().items()):
        t = t.detach().cpu().contiguous()
        h.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def load_weights(model: nn.Module, path: str | Path, name: str) -> str:
    """Load a weight file into ``model`` (strict) with the shared safe loader
    (:mod:`gesturebench.encoders.weights`: safetensors or weights-only torch.load,
    wrapped checkpoints unwrapped); return the file's SHA-256."""
    from ..weights import compare_state_dicts, load_into, load_state_dict

    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"weights file for {name!r} not found: {path}")
    state, sha = load_state_dict(path)
    report = compare_state_dicts(
        {k: tuple(v.shape) for k, v in model.state_dict().items()}, {k: tuple(v.shape) for k, v in state.items()}
    )
    if not report.ok:
        raise WeightsError(f"weights {path} do not fit {name!r}: {report.summary()}")
    load_into(model, state)
    return sha


class TinyEncoder(TorchEncoder):
    """TorchEncoder over :class:`TinyVideoViT` or :class:`TinyClip`."""

    version = "1"

    def __init__(self, model: nn.Module, spec: InputSpec, feature_dim: int, weights_sha256: str) -> None:
        super().__init__(model, weights_sha256)
        self.spec = spec
        self.feature_dim = feature_dim
        self.supports_text = isinstance(model, TinyClip)

    def forward_features(self, clips: torch.Tensor) -> torch.Tensor:
        check_clips(self.name, clips, self.spec)
        return self.model(clips)

    def encode_text(self, texts: list[str]) -> torch.Tensor:
        if not self.supports_text:
            return super().encode_text(texts)
        from ...runtime import autocast_context

        ids, mask = byte_tokenize(list(texts), self.model.text.context)
        with torch.inference_mode(), autocast_context(self.device, self.precision):
            out = self.model.forward_text(ids.to(self.device), mask.to(self.device))
        return out.float()


def create(
    entry: EncoderEntry, weights: str | Path | None = None, kind: str = "vit", dim: int = 32, seed: int = 0
) -> TinyEncoder:
    """Registry factory: ``kind`` is ``vit`` or ``clip``; ``seed`` picks the random init."""
    spec = entry.spec
    if kind not in ("vit", "clip"):
        raise ConfigError(f"tiny encoder kind must be one of vit, clip; got {kind!r}")
    # Module constructors draw their default init from the global RNG; fork it so
    # building an encoder never changes the caller's random stream.
    with torch.random.fork_rng(devices=[]):
        model: nn.Module = TinyVideoViT(spec, dim=dim) if kind == "vit" else TinyClip(spec, dim=dim, embed_dim=dim)
    feature_dim = dim
    seeded_init_(model, seed)
    sha = load_weights(model, weights, entry.name) if weights is not None else state_dict_sha256(model)
    return TinyEncoder(model, spec, feature_dim, sha)
