"""VideoMAE-style video ViTs: VideoMAE V2 (Wang et al., CVPR 2023) and the
UnlabeledHybrid-pre-trained VideoMAE ViT-B/L fine-tunes released with InternVideo.

Both use the same fine-tuning architecture (:mod:`..vit3d`): tubelet 2,
16 frames at 224 px (8 x 14 x 14 = 1568 tokens), fixed sine/cosine position
table, separate q/v biases, LayerNorm eps 1e-6, features ``fc_norm(mean(tokens))``.
Other frame counts regenerate the table for the new token count, as the
official VideoMAE V2 code does.
"""

from __future__ import annotations

from dataclasses import replace

from ..vit3d import VideoViTConfig, VideoViTEncoder, create_video_vit

ARCHS: dict[str, VideoViTConfig] = {
    "s16": VideoViTConfig(embed_dim=384, depth=12, num_heads=6, tubelet=2, num_frames=16),
    "b16": VideoViTConfig(embed_dim=768, depth=12, num_heads=12, tubelet=2, num_frames=16),
    "l16": VideoViTConfig(embed_dim=1024, depth=24, num_heads=16, tubelet=2, num_frames=16),
    # tests only: same code paths, 2 x 2 x 2 tokens
    "tiny": VideoViTConfig(embed_dim=32, depth=2, num_heads=4, patch_size=8, img_size=16, tubelet=2, num_frames=4),
}


def videomae_config(arch: str, pooling: str = "fc_norm") -> VideoViTConfig:
    from ...errors import check_choice

    check_choice("VideoMAE arch", arch, ARCHS)
    return replace(ARCHS[arch], pooling=pooling, pos_resize="regenerate")


def create(entry, weights=None, arch: str = "b16", pooling: str = "fc_norm", **kwargs) -> VideoViTEncoder:
    """Registry factory for ``videomae-*`` / ``videomaev2-*`` presets."""
    return create_video_vit(entry, videomae_config(arch, pooling), weights=weights, **kwargs)
