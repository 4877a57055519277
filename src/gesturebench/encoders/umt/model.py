"""UMT (Unmasked Teacher, Li et al., ICCV 2023) single-modality video ViTs.

UMT-B/16 and UMT-L/16 are plain video ViTs (:mod:`..vit3d`) with tubelet 1,
8 frames at 224 px (8 x 14 x 14 = 1568 tokens) and the fixed sine/cosine
position table. Fine-tuned checkpoints pool with ``fc_norm(mean(tokens))``.
Pre-training checkpoints have no ``fc_norm``: their encoder ends in a
LayerNorm ``norm`` applied to every token (it feeds the CLIP-alignment
decoders), so we use ``mean(norm(tokens))`` for them; the official fine-tuning
script drops that ``norm`` and starts ``fc_norm`` from scratch, so nothing
else trained would be available at that point.

Other frame counts (``num_frames=`` override) interpolate the 8 x 14 x 14
table linearly in time, as the official fine-tuning code does.
"""

from __future__ import annotations

from dataclasses import replace

from ..vit3d import VideoViTConfig, VideoViTEncoder, create_video_vit

ARCHS: dict[str, VideoViTConfig] = {
    "b16": VideoViTConfig(embed_dim=768, depth=12, num_heads=12, tubelet=1, num_frames=8),
    "l16": VideoViTConfig(embed_dim=1024, depth=24, num_heads=16, tubelet=1, num_frames=8),
    # tests only: same code paths, 2 x 2 x 2 tokens
    "tiny": VideoViTConfig(embed_dim=32, depth=2, num_heads=4, patch_size=8, img_size=16, tubelet=1, num_frames=2),
}


def umt_config(arch: str, pooling: str = "fc_norm") -> VideoViTConfig:
    from ...errors import check_choice

    check_choice("UMT arch", arch, ARCHS)
    cfg = ARCHS[arch]
    return replace(cfg, pooling=pooling, pos_base_grid=cfg.grid, pos_resize="interpolate")


def create(entry, weights=None, arch: str = "b16", pooling: str = "fc_norm", **kwargs) -> VideoViTEncoder:
    """Registry factory for ``umt-*`` presets."""
    return create_video_vit(entry, umt_config(arch, pooling), weights=weights, **kwargs)
