"""Presets of the basic family (pure data: no torch, no model code).

- ``pixels``: down-sampled raw frames; the floor any encoder must beat.
- ``motion``: HOG + HOF + MBH hand-crafted spatio-temporal descriptor.
- ``pose``: MediaPipe BlazePose landmarks -> arm paths (needs the ``[pose]`` extra).
- ``test-tiny-vit`` / ``test-tiny-clip``: tiny random transformers for tests.

The training-free encoders declare a UNIT mean/std so their clips arrive as
[0, 1] intensities after :func:`~gesturebench.encoders.preprocess.normalize`.
"""

from __future__ import annotations

from ..base import UNIT_MEAN, UNIT_STD, InputSpec
from ..registry import EncoderEntry, register

_PKG = "gesturebench.encoders.basic"

register(
    EncoderEntry(
        name="pixels",
        target=f"{_PKG}.pixels:create",
        spec=InputSpec(num_frames=8, size=16, mean=UNIT_MEAN, std=UNIT_STD, layout="TCHW"),
        feature_dim=8 * 3 * 16 * 16,
        family="basic",
        description="8 RGB frames down-sampled to 16x16, mean-centred, L2-normalised",
        pooling="none (flattened)",
        source="training-free",
        params_m=0.0,
    )
)

register(
    EncoderEntry(
        name="motion",
        target=f"{_PKG}.motion:create",
        spec=InputSpec(num_frames=16, size=112, mean=UNIT_MEAN, std=UNIT_STD, layout="TCHW"),
        feature_dim=2 * 4 * 4 * (9 + 3 * 8) + 8 * 8,
        family="basic",
        description="actor-centred, camera-compensated HOG + HOF + MBHx/MBHy (Farneback) + motion energy image, sqrt + L2",
        pooling="4x4 grid x 2 segments + 8x8 MEI",
        source="training-free",
        params_m=0.0,
    )
)

register(
    EncoderEntry(
        name="pose",
        target="gesturebench.encoders.pose.encoder:create",
        # 24 TSN frames: enough points for an arm's path, ~0.6 s per clip on one core.
        spec=InputSpec(num_frames=24, size=256, mean=UNIT_MEAN, std=UNIT_STD, layout="TCHW"),
        feature_dim=8 * 16 + 4 * 16 + 2 * 8 * 8 + 2 * 8,
        family="pose",
        description="MediaPipe BlazePose full (33 landmarks/frame) -> elbows+wrists in torso units over time, "
        "wrist paths by arc length, wrist occupancy maps, motion-direction histograms; needs gesturebench[pose]",
        pooling="trajectory 16 t + arc 16 pts + 8x8 occupancy + 8 directions",
        source="pose_landmark_full.tflite inside the mediapipe wheel (no download)",
        license="Apache-2.0 (MediaPipe)",
    )
)

register(
    EncoderEntry(
        name="test-tiny-vit",
        target=f"{_PKG}.tiny:create",
        spec=InputSpec(num_frames=8, size=32, tubelet=2, layout="CTHW"),
        feature_dim=32,
        family="basic",
        description="tiny random video ViT (tubelet 2x8x8, 2 blocks, dim 32) for tests",
        pooling="mean of tokens + LayerNorm",
        source="random init (seed 0)",
        params_m=0.03,
        test_only=True,
        kwargs={"kind": "vit", "dim": 32, "seed": 0},
    )
)

register(
    EncoderEntry(
        name="test-tiny-clip",
        target=f"{_PKG}.tiny:create",
        spec=InputSpec(num_frames=8, size=32, tubelet=2, layout="CTHW"),
        feature_dim=32,
        family="basic",
        description="tiny random video-text model (byte tokenizer) for zero-shot tests",
        pooling="mean of tokens + linear projection",
        source="random init (seed 0)",
        params_m=0.05,
        supports_text=True,
        test_only=True,
        kwargs={"kind": "clip", "dim": 32, "seed": 0},
    )
)
