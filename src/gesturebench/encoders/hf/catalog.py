"""Presets of the Hugging Face transformers family (pure data: no torch, no model code).

Every preset loads a local checkpoint folder (``--weights DIR``, as written by
``huggingface-cli download <hub_id> --local-dir DIR``), the preset's folder in
``$GESTUREBENCH_WEIGHTS``, or the hub snapshot of ``hub_id``. The spec below is
what the published checkpoint expects; at load time frames/size/tubelet are
read from the checkpoint's ``config.json`` and mean/std/crop from its
processor config when present (see ``hf/loading.py``), so the two cannot
drift apart.

params_m: parameters of the modules that compute the feature (classifier heads
and the V-JEPA 2 predictor excluded; X-CLIP counts both towers).
gflops: multiply-accumulates (the fvcore / papers' "FLOPs" convention) of one
clip at the spec's input, counted with ``torch.utils.flop_counter`` on the
meta device for the published configuration (matmuls and convolutions;
softmax, norms and activations not counted). See docs/models.md.
"""

from __future__ import annotations

from ..base import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, InputSpec
from ..registry import EncoderEntry, register

TARGET = "gesturebench.encoders.hf.models:create_hf_encoder"

#: ViViT's processor maps pixels to [-1, 1] (x / 127.5 - 1) and then normalises with 0.5 / 0.5,
#: i.e. (u - 0.75) / 0.25 for u = x / 255.
_VIVIT_MEAN = (0.75, 0.75, 0.75)
_VIVIT_STD = (0.25, 0.25, 0.25)

_VIDEOMAE_SPEC = InputSpec(num_frames=16, size=224, tubelet=2, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="TCHW", preprocess="transformers")

register(
    EncoderEntry(
        name="videomae-b16-k400-hf",
        target=TARGET,
        spec=_VIDEOMAE_SPEC,
        feature_dim=768,
        family="hf",
        description="VideoMAE ViT-B/16 (16x224, tubelet 2), pre-trained and fine-tuned on Kinetics-400 (HF port)",
        pooling="mean of tokens + fc_norm",
        source="https://huggingface.co/MCG-NJU/videomae-base-finetuned-kinetics",
        license="CC-BY-NC-4.0",
        params_m=86.2,
        gflops=180.3,
        hub_id="MCG-NJU/videomae-base-finetuned-kinetics",
        kwargs={"arch": "videomae"},
    )
)

register(
    EncoderEntry(
        name="videomae-b16-ssv2-hf",
        target=TARGET,
        spec=_VIDEOMAE_SPEC,
        feature_dim=768,
        family="hf",
        description="VideoMAE ViT-B/16 (16x224, tubelet 2), pre-trained and fine-tuned on Something-Something v2 (HF port)",
        pooling="mean of tokens + fc_norm",
        source="https://huggingface.co/MCG-NJU/videomae-base-finetuned-ssv2",
        license="CC-BY-NC-4.0",
        params_m=86.2,
        gflops=180.3,
        hub_id="MCG-NJU/videomae-base-finetuned-ssv2",
        kwargs={"arch": "videomae"},
    )
)

register(
    EncoderEntry(
        name="videomae-b16-k400-pt-hf",
        target=TARGET,
        spec=_VIDEOMAE_SPEC,
        feature_dim=768,
        family="hf",
        description="VideoMAE ViT-B/16 self-supervised pre-training on Kinetics-400 only (no fine-tuning; HF port)",
        pooling="mean of tokens (after the final LayerNorm)",
        source="https://huggingface.co/MCG-NJU/videomae-base",
        license="CC-BY-NC-4.0",
        params_m=86.2,
        gflops=180.3,
        hub_id="MCG-NJU/videomae-base",
        kwargs={"arch": "videomae"},
    )
)

register(
    EncoderEntry(
        name="xclip-b32-k400",
        target=TARGET,
        spec=InputSpec(num_frames=8, size=224, tubelet=1, mean=CLIP_MEAN, std=CLIP_STD, layout="TCHW", preprocess="transformers-bicubic"),
        feature_dim=512,
        family="hf",
        description="X-CLIP ViT-B/32, 8 frames, trained on Kinetics-400; video and text towers",
        pooling="projected frame CLS -> multi-frame transformer -> mean",
        source="https://huggingface.co/microsoft/xclip-base-patch32",
        license="MIT",
        params_m=196.6,
        gflops=35.8,
        hub_id="microsoft/xclip-base-patch32",
        supports_text=True,
        kwargs={"arch": "xclip"},
    )
)

register(
    EncoderEntry(
        name="vjepa2-vitl-fpc64-256",
        target=TARGET,
        spec=InputSpec(
            num_frames=64, size=256, tubelet=2, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="TCHW", crop_ratio=256 / 292, preprocess="transformers"
        ),
        feature_dim=1024,
        family="hf",
        description="V-JEPA 2 ViT-L/16 encoder, 64 frames at 256 px (self-supervised; predictor unused)",
        pooling="mean of encoder tokens",
        source="https://huggingface.co/facebook/vjepa2-vitl-fpc64-256",
        license="MIT",
        params_m=303.9,
        gflops=5785.3,
        hub_id="facebook/vjepa2-vitl-fpc64-256",
        kwargs={"arch": "vjepa2"},
    )
)

register(
    EncoderEntry(
        name="timesformer-b-k400",
        target=TARGET,
        spec=InputSpec(num_frames=8, size=224, tubelet=1, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="TCHW", preprocess="transformers"),
        feature_dim=768,
        family="hf",
        description="TimeSformer-Base (divided space-time attention), 8x224, fine-tuned on Kinetics-400",
        pooling="CLS token after the final LayerNorm",
        source="https://huggingface.co/facebook/timesformer-base-finetuned-k400",
        license="CC-BY-NC-4.0",
        params_m=121.3,
        gflops=195.8,
        hub_id="facebook/timesformer-base-finetuned-k400",
        kwargs={"arch": "timesformer"},
    )
)

register(
    EncoderEntry(
        name="vivit-b-k400",
        target=TARGET,
        spec=InputSpec(
            num_frames=32, size=224, tubelet=2, mean=_VIVIT_MEAN, std=_VIVIT_STD, layout="TCHW", crop_ratio=224 / 256, preprocess="transformers"
        ),
        feature_dim=768,
        family="hf",
        description="ViViT-B/16x2 (joint space-time attention), 32x224, trained on Kinetics-400",
        pooling="CLS token after the final LayerNorm",
        source="https://huggingface.co/google/vivit-b-16x2-kinetics400",
        license="MIT",
        params_m=88.6,
        gflops=451.5,
        hub_id="google/vivit-b-16x2-kinetics400",
        kwargs={"arch": "vivit"},
    )
)
