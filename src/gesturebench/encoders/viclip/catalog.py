"""Presets of the viclip family (pure data: no torch, no model code).

Normalisation is ImageNet mean/std, not CLIP's: ViCLIP's own training code
(InternVideo1/Pretrain/ViCLIP, ``dataset/__init__.py``) picks ImageNet statistics
for vision encoders named ``vit_*`` (ViCLIP's are ``vit_b16`` / ``vit_l14``), and the
official demo (``Data/InternVid/viclip/__init__.py``) normalises the same way; see
docs/models.md. Frames are resized straight to 224 x 224 (aspect not kept, no crop)
with bicubic interpolation, as the official evaluation ``test_transform`` does:
recipe ``viclip``; ``viclip-demo`` is the demo's OpenCV bilinear resize.

params_m counts both towers (vision + text + temperature); gflops are the vision
tower's multiply-accumulates for one 8 x 224 x 224 clip (``torch.utils.flop_counter``
on the meta device; a 32-token prompt adds 1.2 (B) / 2.7 (L) GMACs). The parameter
counts agree with the published model.safetensors sizes (598 MB / 1.71 GB in fp32).
"""

from __future__ import annotations

from ..base import IMAGENET_MEAN, IMAGENET_STD, InputSpec
from ..registry import EncoderEntry, register

TARGET = "gesturebench.encoders.viclip.encoder:create_viclip_encoder"
SPEC = InputSpec(num_frames=8, size=224, tubelet=1, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="TCHW", preprocess="viclip")
LICENSE = "MIT (OpenGVLab/ViCLIP model card; the -hf repositories carry no licence tag)"

register(
    EncoderEntry(
        name="viclip-b16-internvid10m-flt",
        target=TARGET,
        spec=SPEC,
        feature_dim=512,
        family="viclip",
        description="ViCLIP ViT-B/16 video-text model (joint space-time attention), InternVid-10M-FLT; the study's ViCLIP-B",
        pooling="CLS -> ln_post -> projection, L2-normalised",
        source=(
            "https://huggingface.co/OpenGVLab/ViCLIP-B-16-hf (model.safetensors + bpe_simple_vocab_16e6.txt.gz; "
            "the official OneDrive file is ViCLIP-B_InternVid-FLT-10M.pth)"
        ),
        license=LICENSE,
        params_m=149.6,
        gflops=179.6,
        weights_file="ViCLIP-B_InternVid-FLT-10M.pth",
        supports_text=True,
        kwargs={"size": "b16"},
    )
)

register(
    EncoderEntry(
        name="viclip-l14-internvid10m-flt",
        target=TARGET,
        spec=SPEC,
        feature_dim=768,
        family="viclip",
        description="ViCLIP ViT-L/14 video-text model (joint space-time attention), InternVid-10M-FLT",
        pooling="CLS -> ln_post -> projection, L2-normalised",
        source=(
            "https://huggingface.co/OpenGVLab/ViCLIP (ViClip-InternVid-10M-FLT.pth) or "
            "https://huggingface.co/OpenGVLab/ViCLIP-L-14-hf (model.safetensors + bpe_simple_vocab_16e6.txt.gz)"
        ),
        license=LICENSE,
        params_m=427.6,
        gflops=826.4,
        weights_file="ViClip-InternVid-10M-FLT.pth",
        supports_text=True,
        kwargs={"size": "l14"},
    )
)
