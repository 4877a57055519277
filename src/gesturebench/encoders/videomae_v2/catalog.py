"""Presets of the videomae_v2 family (pure data: no torch, no model code).

Two official sources share one fine-tuning architecture (16 frames, tubelet
2, 224 px, mean pooling + fc_norm):

* ``videomae-{b,l}16-hybrid-*``: VideoMAE ViT-B/L pre-trained 800 epochs on
  UnlabeledHybrid (the VideoMAE V2 data mix) and fine-tuned, released by
  OpenGVLab/InternVideo (``InternVideo1/README.md``, "VideoMAE-B/L" rows;
  repository licence Apache-2.0). The VideoMAE V2 model zoo itself lists only
  ViT-g for these stages.
* ``videomaev2-{s,b}16-k710-distill``: VideoMAE V2 ViT-S/B distilled on K710
  from the fine-tuned ViT-g (OpenGVLab/VideoMAEv2 ``docs/MODEL_ZOO.md``,
  direct download; repository licence MIT).

Evaluation pipeline (the official single-view ``validation`` transforms): resize
the short side to 224 with the long side truncated (``int()``), OpenCV bilinear,
centre crop 224 with the offset rounded, ImageNet mean/std. The hybrid presets
name recipe ``videomae`` (InternVideo1/Pretrain/VideoMAE, the MCG-NJU/VideoMAE
code), the distilled ones ``videomae_v2`` (OpenGVLab/VideoMAEv2); both compute
the same thing (gesturebench.encoders.recipes).
``params_m`` excludes the classifier head; ``gflops`` are multiply-accumulates
per 16 x 224 x 224 clip (fvcore convention, as in the VideoMAE papers).
"""

from dataclasses import replace

from ..base import IMAGENET_MEAN, IMAGENET_STD, InputSpec
from ..registry import EncoderEntry, register

HYBRID = "https://pjlab-gvm-data.oss-cn-shanghai.aliyuncs.com/internvideo/pretrain/videomae/"
V2 = "https://huggingface.co/OpenGVLab/VideoMAE2/resolve/main/distill/"
HYBRID_LICENSE = "Apache-2.0 (OpenGVLab/InternVideo)"
V2_LICENSE = "MIT (OpenGVLab/VideoMAEv2)"
TARGET = "gesturebench.encoders.videomae_v2.model:create"
SPEC = InputSpec(num_frames=16, size=224, tubelet=2, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="CTHW", crop_ratio=1.0)
SIZE = {"s16": (384, 21.88, 56.88), "b16": (768, 86.23, 180.34), "l16": (1024, 303.86, 596.83)}
POOLING = "fc_norm(mean)"  # fc_norm applied to the mean of the tokens

#: (preset, arch, source folder, weight file, licence, what it is)
PRESETS = (
    ("videomae-b16-hybrid-ssv2", "b16", HYBRID, "vit_b_hybrid_pt_800e_ssv2_ft.pth", HYBRID_LICENSE,
     "VideoMAE ViT-B/16, UnlabeledHybrid pre-training (800 ep) + SSv2 fine-tuning (71.2 top-1)"),
    ("videomae-l16-hybrid-ssv2", "l16", HYBRID, "vit_l_hybrid_pt_800e_ssv2_ft.pth", HYBRID_LICENSE,
     "VideoMAE ViT-L/16, UnlabeledHybrid pre-training (800 ep) + SSv2 fine-tuning"),
    ("videomae-b16-hybrid-k710", "b16", HYBRID, "vit_b_hybrid_pt_800e_k710_ft.pth", HYBRID_LICENSE,
     "VideoMAE ViT-B/16, UnlabeledHybrid pre-training (800 ep) + K710 fine-tuning (79.3 top-1)"),
    ("videomae-b16-hybrid-k400", "b16", HYBRID, "vit_b_hybrid_pt_800e_k400_ft.pth", HYBRID_LICENSE,
     "VideoMAE ViT-B/16, UnlabeledHybrid pre-training (800 ep) + K400 fine-tuning (81.5 top-1)"),
    ("videomae-l16-hybrid-k400", "l16", HYBRID, "vit_l_hybrid_pt_800e_k400_ft.pth", HYBRID_LICENSE,
     "VideoMAE ViT-L/16, UnlabeledHybrid pre-training (800 ep) + K400 fine-tuning"),
    ("videomae-l16-hybrid-k700", "l16", HYBRID, "vit_l_hybrid_pt_800e_k700_ft.pth", HYBRID_LICENSE,
     "VideoMAE ViT-L/16, UnlabeledHybrid pre-training (800 ep) + K700 fine-tuning"),
    ("videomaev2-b16-k710-distill", "b16", V2, "vit_b_k710_dl_from_giant.pth", V2_LICENSE,
     "VideoMAE V2 ViT-B/16 distilled on K710 from the K710-fine-tuned ViT-g (81.5 top-1 K710)"),
    ("videomaev2-s16-k710-distill", "s16", V2, "vit_s_k710_dl_from_giant.pth", V2_LICENSE,
     "VideoMAE V2 ViT-S/16 distilled on K710 from the K710-fine-tuned ViT-g (77.6 top-1 K710)"),
)

for _name, _arch, _base, _file, _lic, _desc in PRESETS:
    _dim, _params, _gflops = SIZE[_arch]
    register(
        EncoderEntry(
            name=_name,
            target=TARGET,
            spec=replace(SPEC, preprocess="videomae" if _base == HYBRID else "videomae_v2"),
            feature_dim=_dim,
            family="videomae_v2",
            description=_desc,
            pooling=POOLING,
            source=_base + _file,
            license=_lic,
            params_m=_params,
            gflops=_gflops,
            weights_file=_file,
            kwargs={"arch": _arch},
        )
    )

register(
    EncoderEntry(
        name="videomae-test-tiny",
        target=TARGET,
        spec=InputSpec(num_frames=4, size=16, tubelet=2, mean=IMAGENET_MEAN, std=IMAGENET_STD, layout="CTHW",
                       preprocess="videomae_v2"),
        feature_dim=32,
        family="videomae_v2",
        description="VideoMAE (V2) architecture, tiny random weights (tests only)",
        pooling=POOLING,
        source="random initialisation (seed 0)",
        license="n/a",
        params_m=0.04,
        gflops=0.0,
        test_only=True,
        kwargs={"arch": "tiny"},
    )
)
